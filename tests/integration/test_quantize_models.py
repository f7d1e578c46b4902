"""Whole-model quantisation of SmolLM2 on the real model: the CLI contract, the issue's targets, greedy
output close to the original, a saved folder that loads back, and KV-cache / prompt-lookup figures
from real runs. The shared cached model is never modified (quantised copies only)."""
from __future__ import annotations

import json

import pytest
import torch

from apps.models.generation import GenerationConfig, generate
from apps.quantize import measure, tricks
from apps.quantize.qlinear import QuantLinear, tensor_bytes

pytestmark = pytest.mark.slow
NAME = "smollm2-135m-instruct"


@pytest.fixture(scope="module")
def fingerprint(smollm):
    """The base model's Linear weights before anything else in this module runs."""
    layer = smollm.model.model.layers[0].mlp.down_proj
    return type(layer), layer.weight.detach().clone()


@pytest.fixture(scope="module")
def q8(cache, fingerprint):
    return cache.get(f"{NAME}+int8")


@pytest.fixture(scope="module")
def q4(cache, fingerprint):
    return cache.get(f"{NAME}+int4")


@pytest.fixture(scope="module")
def short_text(tmp_path_factory):
    """Two English paragraphs and one Chinese one of the lab's unseen text (~600 tokens): the targets
    on a shorter text keep the test quick; bench/quantize.py measures the whole text."""
    paragraphs = measure.read_text().split("\n\n")
    text = "\n\n".join(paragraphs[:2] + [p for p in paragraphs if "图书馆" in p][:1])
    path = tmp_path_factory.mktemp("quantize") / "eval.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_cli_contract_and_int8_target(q8, short_text, capsys):
    from apps.cli import main

    argv = ["quantize", "--model", NAME, "--method", "int8", "--eval-text", str(short_text), "--new-tokens", "8", "--json"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    for side in ("baseline", "quantized"):
        assert {"size_mb", "perplexity", "tokens_per_s"} <= set(report[side])
        assert report[side]["tokens_per_s"] > 0 and report[side]["eval_tokens"] > 400
    assert report["baseline"]["disk_mb"] > 400  # the lab's fp32 folder
    assert report["ratios"]["size"] <= 0.5 and report["quantized"]["disk_mb"] <= 0.5 * report["baseline"]["disk_mb"]
    assert report["ratios"]["perplexity"] <= 1.05


def test_int4_within_its_target(smollm, q4, short_text):
    text = measure.read_text(short_text)
    base, quant = measure.perplexity(smollm, text), measure.perplexity(q4, text)
    assert quant["perplexity"] / base["perplexity"] <= 1.5
    assert tensor_bytes(q4.model) <= 0.4 * tensor_bytes(smollm.model)
    assert isinstance(q4.model.model.layers[3].self_attn.q_proj, QuantLinear)


def test_int8_greedy_output_stays_close(smollm, q8, fingerprint):
    cfg = GenerationConfig(max_new_tokens=12, top_logprobs=0)
    for prompt in ("What is the capital of France?", "Name three colours of the rainbow."):
        a, b = generate(smollm, prompt, cfg), generate(q8, prompt, cfg)
        same = measure.common_prefix([t.id for t in a.tokens], [t.id for t in b.tokens])
        assert same >= len(a.tokens) // 2, (a.text, b.text)
    kind, weight = fingerprint  # the cached original is untouched
    layer = smollm.model.model.layers[0].mlp.down_proj
    assert type(layer) is kind and torch.equal(layer.weight, weight)


def test_saved_folder_loads_back_as_a_model(q4, cache, tmp_path):
    from apps.quantize.store import save_folder

    folder = save_folder(q4, tmp_path / "smol-int4", "int4", 32)
    loaded = cache.get(str(folder))
    ids = torch.tensor([[1, 504, 3458, 314, 260, 1345]])
    with torch.inference_mode():
        assert torch.allclose(loaded.model(ids).logits, q4.model(ids).logits, atol=1e-4)
    assert isinstance(loaded.model.model.layers[0].mlp.up_proj, QuantLinear)
    from apps.errors import LabError

    with pytest.raises(LabError, match="not empty"):
        save_folder(q4, folder, "int4", 32)  # never overwrites


def test_kv_cache_figures_come_from_a_real_run(smollm):
    r = tricks.kv_cache_speed(smollm, new_tokens=8, prompt="Count from one to twenty in words.")
    assert r["same_output"] and len(r["with_cache_ms"]) == 8
    assert sum(r["without_cache_ms"][1:]) > sum(r["with_cache_ms"][1:])
    n = 16
    expected = tricks.kv_cache_size(smollm.model.config, (n,), dtype_bytes=4)["rows"][0]["gqa_bytes"]
    assert tricks.measured_kv_bytes(smollm, n) == expected


def test_prompt_lookup_accepts_copied_tokens_and_keeps_greedy_output(smollm):
    r = tricks.prompt_lookup(smollm, max_new_tokens=16, hf_check=False)
    assert r["same_output"], r["text"]
    assert r["proposed"] > 0 and r["accepted"] > 0
    assert r["forward_passes"] < r["plain_forward_passes"]
