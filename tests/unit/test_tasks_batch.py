"""Reading JSONL/CSV/JSON items (incl. GBK CSV from Excel), clear errors, atomic result files."""
import csv
import json

import pytest

from apps.errors import LabError
from apps.tasks import batch


def test_jsonl_and_csv_and_json(tmp_path):
    jl = tmp_path / "a.jsonl"
    jl.write_text('{"text": "x", "label": "L", "split": "TRAIN"}\n\n{"article": "y", "summary": "s"}\n', encoding="utf-8")
    items = batch.load_items(jl)
    assert items[0] == {"id": "1", "text": "x", "label": "L", "split": "train"}
    assert items[1]["text"] == "y" and items[1]["reference"] == "s"
    gbk = tmp_path / "b.csv"
    gbk.write_bytes("Headline,Label\n国足公布集训名单,体育\n央行下调准备金率,财经\n".encode("gbk"))
    assert [i["label"] for i in batch.load_items(gbk)] == ["体育", "财经"]
    js = tmp_path / "c.json"
    js.write_text(json.dumps([{"content": "z"}]), encoding="utf-8")
    assert batch.load_items(js)[0]["text"] == "z"


@pytest.mark.parametrize("content,key", [
    ('{"text": "ok"}\n{broken\n', "tasks.bad_json"), ('{"title": ""}\n', "tasks.missing_text"),
    ("\n\n", "tasks.empty_file"), ("[1, 2]\n", "tasks.bad_row"),
])
def test_bad_files_say_what_is_wrong(tmp_path, content, key):
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LabError) as exc:
        batch.load_items(path)
    assert exc.value.key == key
    assert "bad.jsonl" in exc.value.message("zh")


def test_samples_are_well_formed():
    news = batch.load_items(batch.sample_path(batch.SAMPLES["news_zh"]))
    assert len(news) >= 8 and all(i.get("reference") for i in news)
    for name in ("headlines_zh", "headlines_en"):
        items = batch.load_items(batch.sample_path(batch.SAMPLES[name]))
        labels = {i["label"] for i in items}
        assert len(labels) >= 5 and all(sum(i["label"] == lab for i in items) >= 6 for lab in labels)
        assert {i["split"] for i in items} == {"train", "test"}


def test_write_results_roundtrip(tmp_path):
    rows = [{"id": "1", "summary": "摘要，带逗号", "scores": {"a": 1}}, {"id": "2", "summary": "b", "error": "x"}]
    out = batch.write_results(rows, tmp_path / "r.csv")
    with open(out, encoding="utf-8-sig", newline="") as handle:
        back = list(csv.DictReader(handle))
    assert back[0]["summary"] == "摘要，带逗号" and json.loads(back[0]["scores"]) == {"a": 1}
    assert back[1]["error"] == "x"
    out = batch.write_results(rows, tmp_path / "r.jsonl")
    assert [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] == rows
    assert [p.name for p in tmp_path.iterdir()] and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_run_items_keeps_going_on_item_errors_but_stops_on_fatal():
    def fn(item):
        if item["text"] == "bad":
            raise LabError("tasks.err_timeout", seconds=1, url="u")
        return {"out": item["text"].upper()}
    rows = batch.run_items([{"id": "a", "text": "x"}, {"id": "b", "text": "bad"}], fn)
    assert rows[0]["out"] == "X" and rows[1]["error"] and "out" not in rows[1]

    def fatal(item):
        raise LabError("tasks.err_auth", status=401, provider="p", detail="d")
    with pytest.raises(LabError):
        batch.run_items([{"text": "x"}], fatal)
