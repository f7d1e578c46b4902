"""The model: a decoder-only Llama-style transformer built with transformers' own `LlamaConfig`, so
the trained result is a plain Hugging Face model (AutoModelForCausalLM loads it, the lab serves it).

    shape = preset("tiny")                         # Shape(n_layers=4, d_model=128, ...)
    config = llama_config(shape, vocab_size=2000)   # transformers.LlamaConfig
    estimate(shape, 2000)                           # params, memory (MB) and FLOPs per token, before training

Each block: RMSNorm → attention (RoPE positions, grouped-query: n_kv_heads ≤ n_heads share K/V) →
RMSNorm → SwiGLU MLP (gate, up: d_model → d_ff; down: d_ff → d_model). Input embedding and output
head share one matrix (tied), which matters at this size: with a 2,000-token vocabulary and
d_model 128 the embedding alone is 256k of ~1M parameters.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

from apps.errors import LabError


@dataclass(frozen=True)
class Shape:
    n_layers: int
    d_model: int
    n_heads: int
    n_kv_heads: int
    d_ff: int
    context: int  # tokens the model sees at once (max_position_embeddings)
    batch_size: int  # sequences per optimizer step
    learning_rate: float  # peak AdamW LR: small models tolerate (and need) a larger one
    rope_theta: float = 10_000.0
    for_gpu: bool = False

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads


PRESETS: dict[str, Shape] = {
    # CPU sizes: the scaling experiment uses nano / micro / tiny on the same data.
    "nano": Shape(n_layers=2, d_model=64, n_heads=2, n_kv_heads=1, d_ff=192, context=128, batch_size=8, learning_rate=8e-3),
    "micro": Shape(n_layers=3, d_model=96, n_heads=3, n_kv_heads=1, d_ff=256, context=128, batch_size=8, learning_rate=6e-3),
    "tiny": Shape(n_layers=4, d_model=128, n_heads=4, n_kv_heads=2, d_ff=384, context=128, batch_size=8, learning_rate=5e-3),
    # GPU sizes: minutes to an hour on one modern GPU with a corpus of tens of MB.
    "small": Shape(n_layers=8, d_model=512, n_heads=8, n_kv_heads=4, d_ff=1408, context=512, batch_size=32,
                   learning_rate=6e-4, for_gpu=True),
    "base": Shape(n_layers=12, d_model=768, n_heads=12, n_kv_heads=4, d_ff=2048, context=1024, batch_size=32,
                  learning_rate=3e-4, for_gpu=True),
}
SCALING = ("nano", "micro", "tiny")


def preset(name: str, **overrides) -> Shape:
    if name not in PRESETS:
        raise LabError("pretrain.bad_preset", name=name, choices=", ".join(PRESETS))
    shape = replace(PRESETS[name], **{k: v for k, v in overrides.items() if v})
    check(shape)
    return shape


def check(shape: Shape) -> None:
    """Shapes transformers would reject or silently mis-handle, as messages."""
    if min(shape.n_layers, shape.d_model, shape.n_heads, shape.n_kv_heads, shape.d_ff, shape.context) < 1:
        raise LabError("pretrain.bad_shape", why="every size must be ≥ 1")
    if shape.d_model % shape.n_heads:
        raise LabError("pretrain.bad_shape", why=f"d_model {shape.d_model} is not divisible by n_heads {shape.n_heads}")
    if shape.n_heads % shape.n_kv_heads:
        raise LabError("pretrain.bad_shape", why=f"n_heads {shape.n_heads} is not a multiple of n_kv_heads {shape.n_kv_heads}")
    if shape.head_dim % 2:
        raise LabError("pretrain.bad_shape", why=f"head_dim {shape.head_dim} must be even for RoPE")


def llama_config(shape: Shape, vocab_size: int, eos_id: int = 0):
    from transformers import LlamaConfig

    check(shape)
    return LlamaConfig(
        vocab_size=vocab_size, hidden_size=shape.d_model, intermediate_size=shape.d_ff,
        num_hidden_layers=shape.n_layers, num_attention_heads=shape.n_heads, num_key_value_heads=shape.n_kv_heads,
        max_position_embeddings=shape.context, rope_theta=shape.rope_theta, tie_word_embeddings=True,
        bos_token_id=eos_id, eos_token_id=eos_id, pad_token_id=eos_id, initializer_range=0.02,
        rms_norm_eps=1e-5, attention_bias=False, mlp_bias=False,
    )


def count_params(shape: Shape, vocab_size: int) -> dict:
    """{"total", "embedding", "per_layer", "non_embedding"}: exactly what LlamaForCausalLM holds."""
    d, kv = shape.d_model, shape.n_kv_heads * shape.head_dim
    attention = d * d + 2 * d * kv + d * d  # q, k, v, o projections (no biases)
    mlp = 3 * d * shape.d_ff  # gate, up, down
    per_layer = attention + mlp + 2 * d  # + two RMSNorm weights
    embedding = vocab_size * d  # shared with the output head (tied)
    non_embedding = shape.n_layers * per_layer + d  # + the final norm
    return {"total": embedding + non_embedding, "embedding": embedding, "per_layer": per_layer,
            "non_embedding": non_embedding}


def estimate(shape: Shape, vocab_size: int, dtype_bytes: int = 4) -> dict:
    """Parameters, training memory and compute before training (rough, ±30%).

    memory_mb: weights + gradients (4 B each in fp32) + AdamW moments (8 B) per parameter, plus
    activations kept for the backward pass (Korthikanti et al. 2022: ≈ 34·T·B·d bytes per layer in
    16-bit, doubled for fp32; SDPA never stores the T×T score matrix, so their 5·h·T² term is left
    out) and the logits (B·T·V floats, about 3 copies).
    flops_per_token: forward ≈ 2·N (each weight: one multiply-add) + 2·L·T·d (attention scores and
    the weighted sum, Kaplan et al. 2020, with the lm head in N); training ≈ 3× forward."""
    params = count_params(shape, vocab_size)
    b, t, d = shape.batch_size, shape.context, shape.d_model
    matmul_params = params["non_embedding"] + params["embedding"]  # the tied head is a matmul too
    forward = 2 * matmul_params + 2 * shape.n_layers * t * d
    act = shape.n_layers * t * b * d * 34 * (dtype_bytes / 2)
    logits = 3 * b * t * vocab_size * 4
    parts = {"weights": params["total"] * dtype_bytes, "gradients": params["total"] * dtype_bytes,
             "adam": params["total"] * 8, "activations": act + logits}
    return {
        "params": params["total"], "non_embedding_params": params["non_embedding"],
        "embedding_params": params["embedding"], "shape": asdict(shape), "vocab_size": vocab_size,
        "parts_mb": {k: round(v / 2**20, 1) for k, v in parts.items()},
        "memory_mb": round(sum(parts.values()) / 2**20, 1),
        "flops_per_token_forward": forward, "flops_per_token_train": 3 * forward,
        "tokens_per_step": b * t,
        # Chinchilla (Hoffmann et al. 2022): compute-optimal training sees ~20 tokens per parameter.
        "chinchilla_tokens": 20 * params["total"],
    }


def train_flops(est: dict, steps: int) -> float:
    return est["flops_per_token_train"] * est["tokens_per_step"] * steps


def human(n: float) -> str:
    """1234567 → '1.23M' (params, FLOPs, tokens)."""
    if n <= 0:
        return "0"
    units = ["", "K", "M", "G", "T", "P", "E"]
    k = min(len(units) - 1, int(math.log10(abs(n)) // 3))
    return f"{n / 10 ** (3 * k):.3g}{units[k]}"
