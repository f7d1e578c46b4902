"""`llmlab attention` end to end on real models: JSON shapes, stats, the from-scratch check, limits."""
from __future__ import annotations

import json

import pytest

from apps.cli import main

pytestmark = pytest.mark.slow


def run_cli(capsys, *args):
    code = main(["attention", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_report(capsys, cache):
    code, out, _ = run_cli(capsys, "--model", "all-minilm-l6-v2", "--text", "Attention is all you need",
                           "--json", "--layer", "2", "--head", "3")
    assert code == 0
    data = json.loads(out)
    s = data["shapes"]
    assert (s["layers"], s["heads"], s["kv_heads"], s["head_dim"]) == (6, 12, 12, 32)
    assert data["tokens"][0] == "[CLS]" and data["tokens"][-1] == "[SEP]" and s["tokens"] == len(data["tokens"])
    assert s["attentions"] == [6, 12, s["tokens"], s["tokens"]]
    assert not data["causal"]
    for name in ("entropy", "distance", "first_token", "previous_token"):
        assert len(data["head_stats"][name]) == 6 and len(data["head_stats"][name][0]) == 12
    check = data["from_scratch"]
    assert check["agrees"] and check["max_abs_diff"] <= 1e-4 and len(check["per_layer_max"]) == 6
    rows = data["weights"]["rows"]
    assert len(rows) == s["tokens"] and all(abs(sum(r) - 1) < 1e-2 for r in rows)


def test_text_report_for_a_decoder(capsys, cache):
    code, out, _ = run_cli(capsys, "--model", "smollm2-135m-instruct", "--text", "Hello there, friend")
    assert code == 0
    assert "30 layers x 9 heads (3 kv)" in out and "OK" in out and "strongest attention sinks" in out


def test_limits_give_clear_errors(capsys, cache):
    code, out, err = run_cli(capsys, "--model", "all-minilm-l6-v2", "--text", "word " * 40, "--max-tokens", "16", "--json")
    assert code == 2
    assert json.loads(out)["error"]["key"] == "attention.too_long"
    assert "42 tokens" in err and "16" in err
    code, _, err = run_cli(capsys, "--model", "all-minilm-l6-v2", "--text", "   ")
    assert code == 2 and "empty" in err
    code, _, err = run_cli(capsys, "--model", "all-minilm-l6-v2", "--text", "hi", "--layer", "9")
    assert code == 2 and "out of range" in err
