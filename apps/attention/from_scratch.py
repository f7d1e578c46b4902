"""Attention from scratch: one head's attention pattern recomputed from the layer's own weights.

This is the teaching code the curriculum quotes. It uses nothing but torch: the model's Q/K
projection weights (packed in a `LayerWeights`, see `apps.attention.recipes` for how they are read
out of a transformers model) and the hidden states entering the attention block. The result
matches the model's `output_attentions` to 1e-4 for every layer and head of SmolLM2 (Llama: RoPE,
grouped-query heads), Gemma-3 (q/k RMS norms, sliding-window layers) and MiniLM (BERT: bidirectional).

    from apps.attention.recipes import layer_weights
    w = layer_weights(model, layer=3)
    p = attention_weights(x, w, head=0)      # x: (T, d) → p: (T, T), rows sum to 1
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class LayerWeights:
    """What one attention layer needs to recompute its attention weights (float32 tensors)."""

    wq: torch.Tensor  # (n_heads * head_dim, d) query projection
    wk: torch.Tensor  # (n_kv_heads * head_dim, d) key projection
    bq: torch.Tensor | None  # (n_heads * head_dim,) query bias (BERT has one, Llama/Gemma do not)
    bk: torch.Tensor | None  # (n_kv_heads * head_dim,)
    n_heads: int
    n_kv_heads: int  # fewer than n_heads = grouped-query attention (several Q heads share one K)
    head_dim: int
    scale: float  # usually head_dim**-0.5; Gemma 3 uses query_pre_attn_scalar**-0.5
    causal: bool  # decoders: token i sees only tokens j <= i; encoders see everything
    inv_freq: torch.Tensor | None = None  # (head_dim/2,) rotary frequencies; None = no RoPE (BERT)
    window: int | None = None  # sliding window: token i sees only the last `window` tokens
    q_norm: torch.Tensor | None = None  # (head_dim,) RMSNorm weight applied to each head's q (Gemma 3, Qwen3)
    k_norm: torch.Tensor | None = None  # (head_dim,) same for k
    norm_eps: float = 1e-6


def rope_frequencies(theta: float, head_dim: int) -> torch.Tensor:
    """(head_dim/2,) angular speeds: pair i of channels turns by position * theta**(-2i/head_dim)."""
    return 1.0 / theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)


def rope(x: torch.Tensor, inv_freq: torch.Tensor) -> torch.Tensor:
    """Rotate x (T, head_dim) by an angle that grows with position (channel i pairs with i + hd/2)."""
    T = x.shape[0]
    angles = torch.arange(T, dtype=torch.float32)[:, None] * inv_freq[None, :]  # (T, hd/2)
    cos, sin = angles.cos().repeat(1, 2), angles.sin().repeat(1, 2)  # (T, hd)
    x1, x2 = x.chunk(2, dim=-1)  # two halves, (T, hd/2) each
    rotated = torch.cat([-x2, x1], dim=-1)  # (T, hd): the 90°-turned partner of each channel
    return x * cos + rotated * sin


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """Scale each row of x (T, hd) to unit root-mean-square, then by a learned weight (hd,)."""
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


def attention_weights(x: torch.Tensor, w: LayerWeights, head: int,
                      keep: torch.Tensor | None = None) -> torch.Tensor:
    """Recompute head `head`'s attention pattern from the hidden states entering the attention block.

    x: (T, d) float32, the layer input after its pre-attention norm (Llama/Gemma) or as is (BERT).
    keep: optional (T,) bool, False for padding tokens that no one may attend to.
    Returns (T, T): row i is how token i spreads its attention over tokens j (each row sums to 1).
    """
    T, hd = x.shape[0], w.head_dim
    kv = head // (w.n_heads // w.n_kv_heads)  # grouped-query: heads share K heads in groups
    q = x @ w.wq[head * hd:(head + 1) * hd].T  # (T, hd) what each token is looking for
    k = x @ w.wk[kv * hd:(kv + 1) * hd].T  # (T, hd) what each token offers
    if w.bq is not None:
        q, k = q + w.bq[head * hd:(head + 1) * hd], k + w.bk[kv * hd:(kv + 1) * hd]
    if w.q_norm is not None:  # Gemma 3 / Qwen3 normalise each head's q and k first
        q, k = rms_norm(q, w.q_norm, w.norm_eps), rms_norm(k, w.k_norm, w.norm_eps)
    if w.inv_freq is not None:  # RoPE: position enters by rotating q and k
        q, k = rope(q, w.inv_freq), rope(k, w.inv_freq)
    scores = (q @ k.T) * w.scale  # (T, T) scaled dot product

    i = torch.arange(T)[:, None]  # query positions (T, 1)
    j = torch.arange(T)[None, :]  # key positions (1, T)
    allowed = torch.ones(T, T, dtype=torch.bool)
    if w.causal:
        allowed &= j <= i  # no peeking at later tokens
    if w.window is not None:
        allowed &= i - j < w.window  # sliding-window layers forget tokens further back
    if keep is not None:
        allowed &= keep[None, :]  # nobody attends to padding
    scores = scores.masked_fill(~allowed, float("-inf"))
    return scores.softmax(dim=-1)  # (T, T)
