"""Summarisation and classification runs end to end against the lab's own server, and the CLI."""
from __future__ import annotations

import json
import re
from pathlib import Path

import torch

from apps.cli import main
from apps.tasks import batch, classify, offline, summarize
from apps.tasks.providers import ProviderConfig

HELDOUT = Path(__file__).resolve().parents[1] / "data"
HELD_LABELS = {"en": ["sports", "military", "tech", "business"], "zh": ["体育", "军事", "科技", "财经", "娱乐"]}

HEADLINES = [
    {"id": "t1", "text": "Striker scores twice as home side wins derby", "label": "sports", "split": "train"},
    {"id": "t2", "text": "Chipmaker unveils faster laptop processor", "label": "tech", "split": "train"},
    {"id": "e1", "text": "Goalkeeper saves penalty in cup final", "label": "sports"},
    {"id": "e2", "text": "New phone update adds offline voice assistant", "label": "tech"},
    {"id": "e3", "text": "Tennis champion retires after final match", "label": "sports"},
]


def _cfg(lab_api):
    return ProviderConfig("lab", base_url=lab_api.base_url, model="smollm2-135m-instruct")


def _rouge_l_by_hand(candidate: str, reference: str) -> float:
    """ROUGE-L F1 written out here, apart from apps.tasks.metrics: Chinese characters one unit each,
    Latin/digit runs one lower-cased word, the rest ignored; LCS by the textbook table."""
    def units(text):
        return [u.lower() for u in re.findall(r"[\u4e00-\u9fff]|[A-Za-z0-9]+", text)]
    a, b = units(candidate), units(reference)
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a)):
        for j in range(len(b)):
            table[i + 1][j + 1] = table[i][j] + 1 if a[i] == b[j] else max(table[i][j + 1], table[i + 1][j])
    lcs = table[-1][-1]
    return 0.0 if not lcs else 2 * lcs / (len(a) + len(b))


def test_summaries_are_scored_against_references(lab_api, smollm):
    items = batch.load_items(batch.sample_path(batch.SAMPLES["news_zh"]))[:2]
    seen = []
    result = summarize.run(_cfg(lab_api), items, length=20, lang="zh", max_tokens=6, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 2), (2, 2)] and result["scored"] == 2
    for row, item in zip(result["rows"], items):
        assert row["summary"] and row["completion_tokens"] <= 6 and row["latency_s"] > 0
        assert abs(row["rougeL"] - _rouge_l_by_hand(row["summary"], item["reference"])) < 1e-3
    assert result["rouge"]["rouge1"] == round((result["rows"][0]["rouge1"] + result["rows"][1]["rouge1"]) / 2, 4)
    assert "{text}" in result["template"] and result["totals"]["prompt_tokens"] > 0


def test_zero_and_few_shot_count_every_answer(lab_api, smollm):
    for method in ("zero-shot", "few-shot"):
        result = classify.run(HEADLINES, method, ["sports", "tech"], _cfg(lab_api), lang="en", shots=1, max_tokens=4)
        rep = result["report"]
        assert rep["n"] == 3 and result["train_size"] == 2
        assert sum(map(sum, rep["confusion"])) == 3  # unparsed answers are counted, not dropped
        assert rep["unparsed"] == sum(r["pred"] is None for r in result["rows"])
        for row in result["rows"]:  # a label is read iff the reply names one (whole words)
            named = [lab for lab in ("sports", "tech") if re.search(rf"\b{lab}\b", row.get("raw", "").lower())]
            assert (row["pred"] is None) == (not named) and (row["pred"] is None or row["pred"] in named)
    # few-shot examples are chat turns: the example's label is the assistant's whole answer
    assert "[user]\nClassify the headline" in result["example_prompt"]
    assert "Headline: Striker scores twice as home side wins derby\nCategory:\n\n[assistant]\nsports" \
        in result["example_prompt"]


def _heldout(lang: str) -> list[dict]:
    train = [i for i in batch.load_items(batch.sample_path(batch.SAMPLES[f"headlines_{lang}"]))
             if i.get("label") in HELD_LABELS[lang]]
    test = batch.load_items(HELDOUT / f"classify_heldout.{lang}.jsonl")
    assert not {i["text"] for i in test} & {i["text"] for i in train} and len(test) >= 40
    return [dict(i, split="train") for i in train] + [dict(i, split="test") for i in test]


def test_default_method_meets_its_targets_on_unseen_headlines():
    """The issue's targets, on headlines the shipped samples do not contain: en ≥ 0.90, zh ≥ 0.80."""
    for lang, target in (("en", 0.90), ("zh", 0.80)):
        result = classify.run(_heldout(lang), lang=lang)  # the default method and embedder
        rep = result["report"]
        assert result["method"] == classify.DEFAULT_METHOD and rep["n"] >= 40
        assert rep["accuracy"] >= target and rep["unparsed"] == 0, (lang, rep["accuracy"])
    # MiniLM is English-only: the same method with it stays far below on Chinese (why e5 is the default)
    rep = classify.run(_heldout("zh"), "embedding", lang="zh", embedder="all-minilm-l6-v2")["report"]
    assert rep["accuracy"] < 0.5


def test_likelihood_scores_equal_a_plain_forward_pass(gemma):
    """label_logliks reuses the context's cache; a full forward of context + label must agree."""
    tok = gemma.tokenizer
    context = tok("Headline: Navy tests a new frigate\nCategory:")["input_ids"]
    choices = [tok(" " + label, add_special_tokens=False)["input_ids"] for label in ("military", "sports")]
    fast = offline.label_logliks(gemma, context, choices)
    for ids, got in zip(choices, fast):
        with torch.inference_mode():
            logits = gemma.model(input_ids=torch.tensor([context + ids])).logits[0].float()
        logp = torch.log_softmax(logits, dim=-1)
        want = sum(float(logp[len(context) - 1 + k, t]) for k, t in enumerate(ids))
        assert abs(got - want) < 1e-2
    assert fast[0] > fast[1]  # a navy headline is military
    rows = classify.run(_heldout("zh")[:24] + _heldout("zh")[-2:], "likelihood", HELD_LABELS["zh"], lang="zh",
                        shots=1)["rows"]
    assert len(rows) == 2 and all(r["pred"] in HELD_LABELS["zh"] and len(r["scores"]) == 5 for r in rows)


def test_compare_puts_methods_side_by_side(capsys):
    items = _heldout("en")
    variants = (("trained", offline.E5), ("char-ngrams", None), ("embedding", offline.E5))
    result = classify.compare(items, lang="en", variants=variants)
    assert [r["method"] for r in result["rows"]] == ["trained", "char-ngrams", "embedding"]
    assert all(r["n"] == 48 and r["unparsed"] == 0 for r in result["rows"])
    assert result["best"]["accuracy"] == max(r["accuracy"] for r in result["rows"])
    assert [r["default"] for r in result["rows"]] == [True, False, False]


def test_cli_prints_json_and_writes_rows(lab_api, smollm, tmp_path, capsys):
    data = tmp_path / "h.jsonl"
    data.write_text("".join(json.dumps(h) + "\n" for h in HEADLINES), encoding="utf-8")
    out = tmp_path / "rows.csv"
    code = main(["tasks", "classify", "--data", str(data), "--method", "zero-shot", "--provider", "lab",
                 "--base-url", lab_api.base_url, "--out", str(out), "--json"])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["report"]["n"] == 3 and len(payload["rows"]) == 3
    assert out.read_text(encoding="utf-8-sig").startswith("id,")
    code = main(["tasks", "summarize", "--data", str(tmp_path / "missing.jsonl"), "--json"])
    assert code == 2 and "tasks.no_file" in capsys.readouterr().out
