"""Memory estimate: parts add up, methods order as they should, QLoRA on CPU is explained."""
from __future__ import annotations

from apps.finetune.config import RunConfig
from apps.finetune.estimate import estimate, param_counts
from apps.models.loading import model_dir
from apps.models.registry import resolve


def test_parameter_counts_from_shapes_only():
    counts = param_counts(model_dir(resolve("smollm2-135m-instruct")), 16, "all-linear")
    assert 130e6 < counts["total"] < 140e6  # SmolLM2-135M
    # 30 layers × (q,k,v,o,gate,up,down) × r·(in+out): hidden 576, kv 192, mlp 1536
    per_layer = 16 * ((576 + 576) * 2 + (576 + 192) * 2 + (576 + 1536) * 3)
    assert counts["lora"] == 30 * per_layer
    assert param_counts(model_dir(resolve("smollm2-135m-instruct")), 16, "q_proj,v_proj")["lora"] < counts["lora"]


def test_full_costs_more_than_lora_and_parts_add_up(tmp_path):
    lora = estimate(RunConfig(method="lora", max_length=128), "cpu")
    full = estimate(RunConfig(method="full", max_length=128), "cpu")
    assert full["parts_mb"]["optimizer"] > 20 * lora["parts_mb"]["optimizer"]
    assert full["total_mb"] > lora["total_mb"]
    assert abs(sum(lora["parts_mb"].values()) + lora["overhead_mb"] - lora["total_mb"]) < 1
    assert lora["trainable_pct"] < 10 and full["trainable_pct"] == 100
    assert lora["fits"] == (lora["total_mb"] <= lora["available_mb"] * 0.9)
    # a batch is padded to its longest example: max_length only matters up to that
    assert lora["seq_len"] == 85  # alpaca_en's longest example in SmolLM2's chat template
    assert estimate(RunConfig(method="lora", max_length=512), "cpu")["total_mb"] == lora["total_mb"]
    long_data = tmp_path / "long.jsonl"
    long_data.write_text('{"instruction": "Count.", "output": "%s"}\n' % ("one two three " * 200), encoding="utf-8")
    short = estimate(RunConfig(method="lora", max_length=128, data=str(long_data)), "cpu")
    longer = estimate(RunConfig(method="lora", max_length=512, data=str(long_data)), "cpu")
    assert (short["seq_len"], longer["seq_len"]) == (128, 512)
    assert longer["parts_mb"]["activations"] > 3 * short["parts_mb"]["activations"]


def test_dpo_full_adds_a_reference_model():
    est = estimate(RunConfig(method="full", objective="dpo", max_length=128), "cpu")
    assert est["parts_mb"]["reference"] == est["parts_mb"]["weights"]


def test_qlora_without_cuda_is_explained_not_switched():
    est = estimate(RunConfig(method="qlora", max_length=128), "cpu")
    assert est["method"] == "qlora" and est["blocker"] == "finetune.qlora_needs_cuda"


def test_qlora_quantises_only_linear_layers():
    """bitsandbytes turns nn.Linear weights into NF4; Gemma-3's 168M embedding parameters stay 16-bit."""
    counts = param_counts(model_dir(resolve("gemma-3-270m")), 16, "all-linear")
    embedding = 262144 * 640  # Gemma-3-270M: vocab × hidden, tied with the output layer
    assert counts["total"] - counts["linear"] >= embedding and counts["linear"] < counts["total"] / 2
    est = estimate(RunConfig(model="gemma-3-270m", method="qlora", max_length=128), "cpu")
    weights = est["parts_mb"]["weights"] * 2**20
    assert weights >= embedding * 2  # the embeddings alone, at 2 bytes each
    assert weights < (embedding * 2 + counts["linear"] * 0.6)  # + NF4 Linear weights (~0.52 bytes each)
