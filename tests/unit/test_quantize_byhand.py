"""Quantisation by hand: exact codes on tiny examples, the scale/2 round-trip bound, the outlier effect,
our int8/int4 Linear layers, the KV-cache formula and the CLI's refusals (no model is loaded here)."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import torch

from apps.quantize import byhand
from apps.quantize.qlinear import QuantLinear


def test_absmax_int8_codes_by_hand():
    w = torch.tensor([[-1.0, 0.5, 0.25, 1.0]])
    q, scale, zero = byhand.quantize(w, "absmax", 8)
    assert zero is None and float(scale) == pytest.approx(1 / 127)
    assert q.tolist() == [[-127, 64, 32, 127]]  # 63.5 → 64 (round half to even), 31.75 → 32


def test_zeropoint_int4_codes_by_hand():
    w = torch.tensor([[-1.0, 0.0, 0.4, 2.0]])
    q, scale, zero = byhand.quantize(w, "zeropoint", 4)
    assert float(scale) == pytest.approx(0.2) and float(zero) == 5  # (2 - -1) / 15, round(1 / 0.2)
    assert q.tolist() == [[0, 5, 7, 15]]
    back = byhand.dequantize(q, scale, zero, "tensor")
    assert torch.allclose(back, torch.tensor([[-1.0, 0.0, 0.4, 2.0]]), atol=1e-6)  # these sit on the grid


@pytest.mark.parametrize("scheme", byhand.SCHEMES)
@pytest.mark.parametrize("bits", [8, 4])
@pytest.mark.parametrize("granularity", byhand.GRANULARITIES)
def test_roundtrip_error_never_exceeds_half_a_step(scheme, bits, granularity):
    torch.manual_seed(bits)
    w = torch.randn(48, 64) * 0.05
    w[3, 7] = 1.5  # an outlier
    rt = byhand.roundtrip(w, scheme, bits, granularity, group_size=16)
    per_elem_scale = (rt.scale.expand(-1, w.numel() // rt.scale.numel())).reshape(w.shape)
    assert ((rt.dequantized - w).abs() <= per_elem_scale / 2 + 1e-6).all()
    assert rt.max_err <= float(rt.scale.max()) / 2 + 1e-6
    assert rt.levels_used <= 2 ** bits


def test_finer_scales_and_more_bits_cost_less():
    torch.manual_seed(0)
    w = torch.randn(64, 128) * 0.02
    w[0, 0] = 0.8
    mse = {(r["bits"], r["granularity"]): r["mse"] for r in byhand.compare(w, 32, gguf_types=()) if r["scheme"] == "absmax"}
    assert mse[(4, "group")] < mse[(4, "channel")] < mse[(4, "tensor")]
    assert mse[(8, "tensor")] < mse[(4, "tensor")]


def test_one_outlier_hurts_a_shared_scale_most():
    torch.manual_seed(1)
    demo = byhand.outlier_demo(torch.randn(32, 64) * 0.02, factor=50, bits=8, group_size=32)
    by = {r["granularity"]: r for r in demo["rows"]}
    assert by["tensor"]["mse_after"] > 100 * by["tensor"]["mse_before"]
    growth = {g: r["mse_after"] / r["mse_before"] for g, r in by.items()}
    assert growth["tensor"] > 10 * growth["group"]  # with groups, only the outlier's own 31 neighbours suffer
    assert by["tensor"]["zero_fraction_after"] > by["tensor"]["zero_fraction_before"]


def test_gguf_reference_quantisers_agree_with_the_idea():
    torch.manual_seed(2)
    w = torch.randn(8, 64) * 0.05
    rows = {r["label"]: r for r in byhand.compare(w)}
    assert rows["GGUF Q8_0"]["mse"] < rows["GGUF Q4_1"]["mse"] < rows["GGUF Q4_0"]["mse"] * 1.5
    assert rows["GGUF Q4_1"]["bits"] == 5.0 and rows["GGUF Q8_0"]["bits"] == 8.5


@pytest.mark.parametrize("bits", [8, 4])
def test_quant_linear_stores_integers_and_computes_with_them(bits):
    torch.manual_seed(3)
    linear = torch.nn.Linear(64, 24, bias=True).requires_grad_(False)
    q = QuantLinear.from_linear(linear, bits, group_size=16)
    w, back = linear.weight, q.dequantize()
    if bits == 8:
        assert q.qweight.dtype == torch.int8 and q.qweight.shape == (24, 64)
        step = q.scale.expand(-1, 64)
    else:
        assert q.qweight.dtype == torch.uint8 and q.qweight.shape == (24, 32)  # two codes per byte
        step = q.scale.float().repeat_interleave(16, dim=1)
    assert ((back - w).abs() <= step / 2 + 1e-4).all()
    x = torch.randn(5, 64)
    assert torch.allclose(q(x), torch.nn.functional.linear(x, back, linear.bias), atol=1e-4)


def test_kv_cache_formula_by_hand():
    from apps.quantize.tricks import _lookup, kv_cache_size

    config = SimpleNamespace(num_hidden_layers=30, num_attention_heads=9, num_key_value_heads=3, head_dim=64, hidden_size=576)
    s = kv_cache_size(config, (1024,), dtype_bytes=2)
    row = s["rows"][0]
    assert row["gqa_bytes"] == 2 * 30 * 3 * 64 * 1024 * 2 == 23_592_960
    assert row["mha_bytes"] == 3 * row["gqa_bytes"] and row["mqa_bytes"] * 3 == row["gqa_bytes"]
    windowed = SimpleNamespace(**vars(config), sliding_window=512, layer_types=["sliding_attention"] * 25 + ["full_attention"] * 5)
    assert kv_cache_size(windowed, (4096,))["rows"][0]["gqa_bytes"] == 2 * 3 * 64 * 2 * (25 * 512 + 5 * 4096)
    assert _lookup([5, 6, 7, 8, 9, 1, 5, 6, 7], ngram=3, num_pred=2) == [8, 9]
    assert _lookup([1, 2, 3], ngram=2, num_pred=4) == []


def test_model_refs_with_a_method():
    from apps.models.registry import split_quant

    assert split_quant("smollm2-135m-instruct+int8") == ("smollm2-135m-instruct", "int8")
    assert split_quant("m+INT4") == ("m", "int4")
    assert split_quant("m+adapter:/runs/x") == ("m+adapter:/runs/x", None)
    assert split_quant("+int8") == ("+int8", None)


def _cli(capsys, monkeypatch, lang, *argv):
    from apps.cli import main

    monkeypatch.setenv("LLMLAB_LANG", lang)
    code = main(["quantize", *argv])
    return code, capsys.readouterr()


@pytest.mark.skipif(torch.cuda.is_available(), reason="NF4 runs on this machine")
def test_cli_refuses_nf4_without_cuda_in_both_languages(capsys, monkeypatch):
    code, out = _cli(capsys, monkeypatch, "en", "--method", "nf4", "--json")
    assert code == 2 and "needs a CUDA GPU" in out.err
    assert json.loads(out.out)["error"]["key"] == "quantize.needs_cuda"
    code, out = _cli(capsys, monkeypatch, "zh", "--method", "nf4")
    assert code == 2 and "需要 CUDA 显卡" in out.err and "Traceback" not in out.err


def test_cli_refuses_bad_input_before_loading_anything(capsys, monkeypatch, tmp_path):
    code, out = _cli(capsys, monkeypatch, "en", "--model", "all-minilm-l6-v2", "--method", "int8")
    assert code == 2 and "embedding model" in out.err
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n", encoding="utf-8")
    code, out = _cli(capsys, monkeypatch, "zh", "--method", "int8", "--eval-text", str(empty))
    assert code == 2 and "文本是空的" in out.err
    code, out = _cli(capsys, monkeypatch, "en", "--method", "int3")
    assert code == 2 and "Unknown quantisation method 'int3'" in out.err
    code, out = _cli(capsys, monkeypatch, "en", "--method", "int4", "--group-size", "48")
    assert code == 2 and "power of two" in out.err


def test_arena_takes_a_quantised_model_as_a_contestant():
    from apps.arena.contestants import parse

    c = parse("smollm2-135m-instruct+int4")
    assert (c.kind, c.model, c.adapter) == ("model", "smollm2-135m-instruct+int4", None)
