"""Every `llmlab finetune` error path: a clear message in zh and en on stderr, exit 2, no traceback,
and refused before any run folder is made (so before a model loads)."""
from __future__ import annotations

import re

import pytest
import torch

from apps.cli import main

BAD_LINES = '{"instruction": "hi", "output": "ok"}\n{"instruction": "no answer"}\n{oops\n'
CASES = {
    # name: (argv with {bin} {bad} {file} placeholders, words the English message must hold)
    "missing data": (["--data", "{tmp}/nope.jsonl"], "not found"),
    "binary data: validate": (["validate", "--data", "{bin}"], "not a UTF-8 text file"),
    "binary data: preview": (["preview", "--data", "{bin}"], "not a UTF-8 text file"),
    "binary data: train": (["--data", "{bin}"], "not a UTF-8 text file"),
    "binary config": (["--config", "{bin}"], "not a UTF-8 text file"),
    "config not a mapping": (["--config", "{list_yaml}"], "invalid"),
    "unknown model": (["--model", "no-such-model"], "no-such-model"),
    "qlora without cuda": (["--method", "qlora"], "QLoRA needs an NVIDIA GPU"),
    "malformed data": (["--data", "{bad}"], "line 2"),
    "dpo on sft data": (["--objective", "dpo", "--data", "alpaca_en"], "preference pairs"),
    "unknown target modules": (["--target-modules", "q_proj,foo_proj"], "foo_proj"),
    "device tpu": (["--device", "tpu"], "device cannot be 'tpu'"),
    "grpo: reward without its value": (["--objective", "grpo", "--reward", "keyword:"], "keyword:WORD"),
    "grpo: unknown reward": (["--objective", "grpo", "--reward", "format+smile"], "No reward called 'smile'"),
    "grpo: reward model that is no run": (["--objective", "grpo", "--reward", "model:{tmp}/nope"], "not found"),
    "grpo: batch not whole groups": (["--objective", "grpo", "--num-generations", "3", "--batch-size", "2"],
                                     "multiple of num_generations"),
    "unwritable output": (["--output", "{file}/run"], "Cannot write"),
    "unwritable merge --out": (["merge", "--run", "some-run", "--out", "{file}/merged"], "Cannot write"),
}


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMLAB_RUNS", str(tmp_path / "runs"))
    (tmp_path / "bin.jsonl").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "bad.jsonl").write_text(BAD_LINES, encoding="utf-8")
    (tmp_path / "file").write_text("a file, not a folder", encoding="utf-8")
    (tmp_path / "list.yaml").write_text("- model\n- method\n", encoding="utf-8")
    return {"tmp": tmp_path, "bin": tmp_path / "bin.jsonl", "bad": tmp_path / "bad.jsonl",
            "file": tmp_path / "file", "list_yaml": tmp_path / "list.yaml"}


@pytest.mark.parametrize("case", list(CASES))
def test_finetune_error_path_says_why_and_exits_2(case, files, capsys, monkeypatch):
    argv, words = CASES[case]
    if case == "qlora without cuda" and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    argv = ["finetune", *[a.format(**files) for a in argv], "--max-steps", "1"]
    for lang in ("en", "zh"):
        monkeypatch.setenv("LLMLAB_LANG", lang)
        code = main(argv)
        out, err = capsys.readouterr()
        assert code == 2, (case, lang, out[-500:], err[-2000:])
        assert err.startswith("error: ") and "Traceback" not in err + out
        assert "{" not in err.replace("{...}", "") and not re.search(r"&\w+;", err)  # no template residue
        if lang == "en":
            assert words in err, err
        else:
            assert re.search(r"[\u4e00-\u9fff]", err), err
    runs = files["tmp"] / "runs"
    assert not runs.exists() or not [p for p in runs.iterdir() if p.name != "datasets"]  # nothing started
