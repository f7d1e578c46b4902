"""`llmlab tasks` refuses bad input with a clear message and exit 2, before reading data or loading a model."""
from __future__ import annotations

import json

import pytest

from apps.cli import main


@pytest.fixture()
def data(tmp_path):
    path = tmp_path / "h.jsonl"
    path.write_text(json.dumps({"text": "Goalkeeper saves penalty", "label": "sports"}) + "\n", encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("content,needle", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not UTF-8 text"),  # binary
    ("总结：{text}".encode("gbk"), "not UTF-8 text"),  # GBK, not UTF-8
])
def test_template_that_is_not_text(tmp_path, data, capsys, content, needle):
    template = tmp_path / "t.txt"
    template.write_bytes(content)
    # the data file does not exist either: the template is checked first, and no model is loaded
    code = main(["tasks", "summarize", "--data", str(tmp_path / "none.jsonl"), "--template", str(template)])
    err = capsys.readouterr().err
    assert code == 2 and needle in err and "t.txt" in err and "Traceback" not in err


def test_out_path_with_an_unknown_extension_or_folder(tmp_path, data, capsys, monkeypatch):
    (tmp_path / "d.csv").mkdir()
    for out, needle in ((tmp_path / "x.xyz", ".csv, .jsonl"), (tmp_path / "d.csv", "Cannot write"),
                        (tmp_path / "no" / "such" / "r.csv", None)):
        code = main(["tasks", "summarize", "--data", str(tmp_path / "none.jsonl"), "--out", str(out)])
        err = capsys.readouterr().err
        if needle:
            assert code == 2 and needle in err, err
        else:  # a folder that can be made is fine: the next check (the missing data) speaks
            assert code == 2 and "File not found" in err
    monkeypatch.setenv("LLMLAB_LANG", "zh")
    code = main(["tasks", "classify", "--data", data, "--out", str(tmp_path / "x.xyz")])
    assert code == 2 and "扩展名无法识别" in capsys.readouterr().err


def test_negative_limit_and_template_without_text(tmp_path, data, capsys):
    assert main(["tasks", "classify", "--data", data, "--limit", "-1"]) == 2
    assert "cannot be negative" in capsys.readouterr().err
    template = tmp_path / "t.txt"
    template.write_text("no placeholder", encoding="utf-8")
    assert main(["tasks", "summarize", "--data", data, "--template", str(template)]) == 2
    assert "{text}" in capsys.readouterr().err
