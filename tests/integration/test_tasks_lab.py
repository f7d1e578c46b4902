"""Summarisation and classification runs end to end against the lab's own server, and the CLI."""
from __future__ import annotations

import json

from apps.cli import main
from apps.tasks import batch, classify, metrics, summarize
from apps.tasks.providers import ProviderConfig

HEADLINES = [
    {"id": "t1", "text": "Striker scores twice as home side wins derby", "label": "sports", "split": "train"},
    {"id": "t2", "text": "Chipmaker unveils faster laptop processor", "label": "tech", "split": "train"},
    {"id": "e1", "text": "Goalkeeper saves penalty in cup final", "label": "sports"},
    {"id": "e2", "text": "New phone update adds offline voice assistant", "label": "tech"},
    {"id": "e3", "text": "Tennis champion retires after final match", "label": "sports"},
]


def _cfg(lab_api):
    return ProviderConfig("lab", base_url=lab_api.base_url, model="smollm2-135m-instruct")


def test_summaries_are_scored_against_references(lab_api, smollm):
    items = batch.load_items(batch.sample_path(batch.SAMPLES["news_zh"]))[:2]
    seen = []
    result = summarize.run(_cfg(lab_api), items, length=20, lang="zh", max_tokens=6, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 2), (2, 2)] and result["scored"] == 2
    for row, item in zip(result["rows"], items):
        assert row["summary"] and row["completion_tokens"] <= 6 and row["latency_s"] > 0
        expected = metrics.rouge(row["summary"], item["reference"])
        assert row["rougeL"] == round(expected["rougeL"]["f"], 4)
    assert result["rouge"]["rouge1"] == round((result["rows"][0]["rouge1"] + result["rows"][1]["rouge1"]) / 2, 4)
    assert "{text}" in result["template"] and result["totals"]["prompt_tokens"] > 0


def test_zero_and_few_shot_count_every_answer(lab_api, smollm):
    for method in ("zero-shot", "few-shot"):
        result = classify.run(HEADLINES, method, ["sports", "tech"], _cfg(lab_api), lang="en", shots=1, max_tokens=4)
        rep = result["report"]
        assert rep["n"] == 3 and result["train_size"] == 2
        assert sum(map(sum, rep["confusion"])) == 3  # unparsed answers are counted, not dropped
        assert rep["unparsed"] == sum(r["pred"] is None for r in result["rows"])
        for row in result["rows"]:
            assert row["pred"] == classify.parse_label(row["raw"], ["sports", "tech"])
    assert "Headline: Striker scores twice" in result["example_prompt"]


def test_embedding_methods_learn_the_sample_set(minilm):
    items = batch.load_items(batch.sample_path(batch.SAMPLES["headlines_en"]))
    chance = 1 / len({i["label"] for i in items})
    for method in ("embedding", "trained"):
        rep = classify.run(items, method)["report"]
        assert rep["accuracy"] > 2 * chance and rep["unparsed"] == 0


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
