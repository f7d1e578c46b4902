"""ROUGE with NFKC and character tokens for Chinese/Japanese (words for Korean), by hand; accuracy / macro-F1 / confusion against scikit-learn."""
import random

import pytest
from sklearn.metrics import accuracy_score, confusion_matrix as sk_confusion, f1_score

from apps.tasks import metrics


def test_tokens_split_chinese_by_character_and_latin_by_word():
    assert metrics.tokens("AI芯片 sales rose，涨了!") == ["ai", "芯", "片", "sales", "rose", "涨", "了"]


def test_tokens_normalise_nfkc_and_keep_every_cjk_script():
    assert metrics.tokens("２０２４年") == ["2024", "年"]  # full-width digits are digits, not dropped
    assert metrics.tokens("ＡＩ芯片") == ["ai", "芯", "片"]
    assert metrics.tokens("きょうは晴れ") == ["き", "ょ", "う", "は", "晴", "れ"]  # kana: one unit each
    assert metrics.tokens("ｶﾀｶﾅ") == ["カ", "タ", "カ", "ナ"]  # half-width katakana, normalised
    assert metrics.tokens("안녕하세요, 세계!") == ["안녕하세요", "세계"]  # hangul: words, as spaced
    assert metrics.tokens("don’t stop") == ["don’t", "stop"] and metrics.tokens("ﬁne") == ["fine"]
    assert metrics.tokens("营收１２．５亿") == ["营", "收", "12.5", "亿"]
    assert metrics.tokens("Привет, мир") == ["привет", "мир"]


def test_rouge_cjk_by_hand():
    # cand ２０２４年营收增长 → 2024 年 营 收 增 长 (6); ref 2024年营收大幅增长 → 2024 年 营 收 大 幅 增 长 (8)
    s = metrics.rouge("２０２４年营收增长", "2024年营收大幅增长")
    assert s["rouge1"]["p"] == pytest.approx(6 / 6) and s["rouge1"]["r"] == pytest.approx(6 / 8)
    # bigrams: cand (2024,年) (年,营) (营,收) (收,增) (增,长); ref lacks only (收,增) → 4/5 and 4/7
    assert s["rouge2"]["p"] == pytest.approx(4 / 5) and s["rouge2"]["r"] == pytest.approx(4 / 7)
    assert s["rougeL"]["f"] == pytest.approx(2 * 1 * 0.75 / 1.75)  # LCS = all 6 of the candidate
    # Japanese: きょうは晴れ vs きょうは雨 → 6 and 5 units, 4 shared (き ょ う は)
    j = metrics.rouge("きょうは晴れ", "きょうは雨")
    assert j["rouge1"]["p"] == pytest.approx(4 / 6) and j["rouge1"]["r"] == pytest.approx(4 / 5)
    # Korean: 오늘 날씨 좋다 vs 오늘 날씨 흐림 → 2 of 3 words; bigram (오늘, 날씨) 1 of 2
    k = metrics.rouge("오늘 날씨 좋다", "오늘 날씨 흐림")
    assert k["rouge1"]["f"] == pytest.approx(2 / 3) and k["rouge2"]["f"] == pytest.approx(1 / 2)


def test_rouge_by_hand():
    # candidate 猫坐在垫上 (5 chars), reference 一只猫坐在垫子上 (8 chars)
    s = metrics.rouge("猫坐在垫上", "一只猫坐在垫子上")
    assert s["rouge1"]["p"] == pytest.approx(5 / 5) and s["rouge1"]["r"] == pytest.approx(5 / 8)
    # bigrams: cand 猫坐 坐在 在垫 垫上; ref has 猫坐 坐在 在垫 → 3/4 and 3/7
    assert s["rouge2"]["p"] == pytest.approx(3 / 4) and s["rouge2"]["r"] == pytest.approx(3 / 7)
    # LCS 猫坐在垫上 = 5
    assert s["rougeL"]["r"] == pytest.approx(5 / 8)
    assert metrics.rouge("", "abc")["rouge1"]["f"] == 0.0
    assert metrics.rouge("the cat", "the cat")["rougeL"]["f"] == pytest.approx(1.0)


def test_rouge_best_and_average():
    best = metrics.rouge_best("a b c", ["x y z", "a b c"])
    assert best["rouge1"]["f"] == pytest.approx(1.0)
    avg = metrics.average_rouge([metrics.rouge("a b", "a b"), metrics.rouge("a b", "c d")])
    assert avg["rouge1"] == pytest.approx(0.5)


def test_classification_metrics_match_sklearn():
    rng = random.Random(0)
    labels = ["体育", "科技", "财经", "娱乐"]
    gold = [rng.choice(labels) for _ in range(60)]
    pred = [rng.choice(labels + [None]) for _ in range(60)]  # None = unparsed answer
    as_str = [p if p is not None else metrics.UNPARSED for p in pred]
    assert metrics.accuracy(gold, pred) == pytest.approx(accuracy_score(gold, as_str))
    seen = [lab for lab in labels if lab in gold or lab in pred]
    assert metrics.macro_f1(gold, pred, labels) == pytest.approx(
        f1_score(gold, as_str, labels=seen, average="macro", zero_division=0))
    matrix, columns = metrics.confusion_matrix(gold, pred, labels)
    assert columns[-1] == metrics.UNPARSED
    assert matrix == sk_confusion(gold, as_str, labels=labels + [metrics.UNPARSED])[: len(labels)].tolist()
    report = metrics.classification_report(gold, pred, labels)
    assert report["unparsed"] == pred.count(None)
    assert sum(map(sum, report["confusion"])) == len(gold)
