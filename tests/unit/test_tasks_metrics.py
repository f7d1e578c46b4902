"""ROUGE with character tokens for Chinese; accuracy / macro-F1 / confusion against scikit-learn."""
import random

import pytest
from sklearn.metrics import accuracy_score, confusion_matrix as sk_confusion, f1_score

from apps.tasks import metrics


def test_tokens_split_chinese_by_character_and_latin_by_word():
    assert metrics.tokens("AI芯片 sales rose，涨了!") == ["ai", "芯", "片", "sales", "rose", "涨", "了"]


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
