"""Reading a transformers model's attention weights into `from_scratch.LayerWeights`, and checking.

Each architecture keeps the same ideas under different names (q_proj vs query, RMSNorm with or
without Gemma's "1 + weight", per-layer-type rotary frequencies). This module hides that, so the
teaching function in `from_scratch.py` stays one short, uniform piece of code.

    w = layer_weights(lm.model, layer=0)
    diffs = agreement(lm.model, run)          # (L, H) max |from scratch − output_attentions|
"""
from __future__ import annotations

import numpy as np
import torch

from apps.attention.from_scratch import LayerWeights, attention_weights, rope_frequencies
from apps.errors import LabError


def attention_modules(model) -> list:
    """The self-attention module of every layer, in order (Llama/Qwen/Gemma decoders, BERT encoders)."""
    base = getattr(model, "base_model", model)
    if hasattr(base, "layers"):  # LlamaModel, Gemma3TextModel, Qwen3Model …
        return [layer.self_attn for layer in base.layers]
    encoder = getattr(base, "encoder", None)
    if encoder is not None and hasattr(encoder, "layer"):  # BertModel, RobertaModel …
        return [layer.attention.self for layer in encoder.layer]
    raise LabError("attention.unsupported", arch=type(model).__name__)


def _f32(t):
    return None if t is None else t.detach().to(device="cpu", dtype=torch.float32)


def _projections(attn):
    if hasattr(attn, "q_proj"):
        return attn.q_proj, attn.k_proj
    if hasattr(attn, "query"):
        return attn.query, attn.key
    raise LabError("attention.unsupported", arch=type(attn).__name__)


def _rope(model, attn, head_dim: int):
    """Rotary frequencies of this layer (or None), and the factor it multiplies cos/sin by."""
    base = getattr(model, "base_model", model)
    rotary = getattr(base, "rotary_emb", None)
    if rotary is None:
        return None, 1.0
    params = getattr(model.config, "rope_parameters", None) or {}
    layer_type = getattr(attn, "layer_type", None)
    if layer_type and layer_type in params:  # Gemma 3: local layers θ=10k, global layers θ=1M
        params = params[layer_type]
        buffer = getattr(rotary, f"{layer_type}_inv_freq")
        scaling = getattr(rotary, f"{layer_type}_attention_scaling")
    else:
        buffer, scaling = rotary.inv_freq, getattr(rotary, "attention_scaling", 1.0)
    if params.get("rope_type", "default") == "default":
        return rope_frequencies(float(params["rope_theta"]), head_dim), float(scaling)
    return _f32(buffer), float(scaling)  # llama3 / yarn …: the model's own scaled frequencies


def _head_norm(attn, name: str):
    norm = getattr(attn, name, None)
    if norm is None:
        return None, 1e-6
    weight = _f32(norm.weight)
    if "Gemma" in type(norm).__name__:  # Gemma's RMSNorm multiplies by (1 + weight)
        weight = 1.0 + weight
    eps = getattr(norm, "eps", None) or getattr(norm, "variance_epsilon", 1e-6)
    return weight, float(eps)


def layer_weights(model, layer: int) -> LayerWeights:
    """Everything `attention_weights` needs for layer `layer` of a loaded transformers model."""
    config = model.config
    attn = attention_modules(model)[layer]
    q_proj, k_proj = _projections(attn)
    n_heads = config.num_attention_heads
    n_kv = getattr(config, "num_key_value_heads", None) or n_heads
    head_dim = getattr(attn, "head_dim", None) or getattr(attn, "attention_head_size", None) \
        or config.hidden_size // n_heads
    inv_freq, rope_scaling = _rope(model, attn, head_dim)
    q_norm, eps = _head_norm(attn, "q_norm")
    k_norm, _ = _head_norm(attn, "k_norm")
    if getattr(config, "attn_logit_softcapping", None):
        raise LabError("attention.unsupported", arch=f"{type(model).__name__} (logit soft-capping)")
    return LayerWeights(
        wq=_f32(q_proj.weight), wk=_f32(k_proj.weight), bq=_f32(q_proj.bias), bk=_f32(k_proj.bias),
        n_heads=n_heads, n_kv_heads=n_kv, head_dim=head_dim,
        # a rotary factor s scales both q and k, so scores by s²
        scale=float(getattr(attn, "scaling", head_dim ** -0.5)) * rope_scaling ** 2,
        causal=bool(getattr(attn, "is_causal", False)),
        inv_freq=inv_freq, window=getattr(attn, "sliding_window", None),
        q_norm=q_norm, k_norm=k_norm, norm_eps=eps,
    )


@torch.no_grad()
def recompute(model, layer_input: torch.Tensor, layer: int, head: int,
              keep: torch.Tensor | None = None) -> np.ndarray:
    """(T, T) float32: the from-scratch pattern of one head, for one sequence's layer input (T, d)."""
    weights = layer_weights(model, layer)
    return attention_weights(_f32(layer_input), weights, head, keep).numpy()


@torch.no_grad()
def agreement(model, layer_inputs: torch.Tensor, attentions: np.ndarray,
              layers: list[int] | None = None) -> np.ndarray:
    """(L, H) float64 max |from scratch − model| per head; NaN for layers not checked.

    layer_inputs: (L, T, d) what entered each attention block; attentions: (L, H, T, T)."""
    n_layers, n_heads = attentions.shape[:2]
    out = np.full((n_layers, n_heads), np.nan)
    for layer in (range(n_layers) if layers is None else layers):
        weights = layer_weights(model, layer)
        x = _f32(layer_inputs[layer])
        for head in range(n_heads):
            mine = attention_weights(x, weights, head).numpy()
            out[layer, head] = float(np.abs(mine - attentions[layer, head]).max())
    return out
