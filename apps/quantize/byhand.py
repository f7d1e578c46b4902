"""Quantising one weight matrix by hand: absmax and zero-point, int8 and int4, per tensor / channel / group.

    from apps.quantize import byhand
    w = byhand.weight(lm.model, "model.layers.0.mlp.down_proj.weight")      # float32 (out, in)
    rt = byhand.roundtrip(w, "zeropoint", bits=4, granularity="group", group_size=32)
    rt.mse, rt.max_err, rt.levels_used                                       # the cost, in numbers
    byhand.compare(w)                                                        # every scheme side by side

Absmax (symmetric): scale = max|w| / (2^(b-1) - 1), q = round(w / scale), w' = q * scale.
Zero-point (asymmetric): scale = (max - min) / (2^b - 1), z = round(-min / scale),
q = clamp(round(w / scale) + z, 0, 2^b - 1), w' = (q - z) * scale.
Either way no element moves by more than scale / 2: that is the bound the tests check. One large
outlier inflates `scale` for everything that shares it, which is why per-channel and per-group
scales help: `outlier_demo` shows it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from apps.errors import LabError

SCHEMES = ("absmax", "zeropoint")
GRANULARITIES = ("tensor", "channel", "group")


@dataclass
class Roundtrip:
    scheme: str
    bits: int
    granularity: str
    group_size: int
    q: torch.Tensor  # integer codes, int32, same shape as w
    scale: torch.Tensor  # float32, broadcastable to w's groups, one per tensor / row / group
    dequantized: torch.Tensor  # float32, same shape as w
    mse: float
    max_err: float
    levels_used: int  # distinct integer codes actually used
    zero_fraction: float  # share of weights (originally non-zero) that came back as exactly 0

    @property
    def label(self) -> str:
        g = f" g{self.group_size}" if self.granularity == "group" else ""
        return f"{self.scheme} int{self.bits} {self.granularity}{g}"

    def row(self) -> dict:
        return {"label": self.label, "scheme": self.scheme, "bits": self.bits, "granularity": self.granularity,
                "group_size": self.group_size if self.granularity == "group" else None, "mse": self.mse,
                "max_err": self.max_err, "levels_used": self.levels_used, "zero_fraction": self.zero_fraction,
                "scales": int(self.scale.numel())}


def _grouped(w: torch.Tensor, granularity: str, group_size: int) -> torch.Tensor:
    """w (out, in) → (n_scales, elements per scale) view: one row per shared scale."""
    if granularity == "tensor":
        return w.reshape(1, -1)
    if granularity == "channel":
        return w.reshape(w.shape[0], -1)
    if granularity == "group":
        if w.shape[-1] % group_size:
            raise LabError("quantize.group_mismatch", dim=w.shape[-1], group=group_size)
        return w.reshape(-1, group_size)
    raise ValueError(f"granularity must be one of {GRANULARITIES}")


def quantize(w: torch.Tensor, scheme: str, bits: int, granularity: str = "tensor", group_size: int = 32):
    """w float (out, in) → (q int32 codes shaped like w, scale (n, 1), zero (n, 1) or None)."""
    g = _grouped(w.float(), granularity, group_size)
    if scheme == "absmax":
        qmax = 2 ** (bits - 1) - 1  # 127 / 7: symmetric, so -128 / -8 stays unused
        scale = (g.abs().amax(dim=1, keepdim=True) / qmax).clamp(min=1e-12)
        q = torch.round(g / scale).clamp(-qmax, qmax)
        zero = None
    elif scheme == "zeropoint":
        qmax = 2 ** bits - 1  # 255 / 15: the whole unsigned range
        lo, hi = g.amin(dim=1, keepdim=True), g.amax(dim=1, keepdim=True)
        scale = ((hi - lo) / qmax).clamp(min=1e-12)
        zero = torch.round(-lo / scale)
        q = (torch.round(g / scale) + zero).clamp(0, qmax)
    else:
        raise ValueError(f"scheme must be one of {SCHEMES}")
    return q.to(torch.int32).reshape(w.shape), scale, zero


def dequantize(q: torch.Tensor, scale: torch.Tensor, zero: torch.Tensor | None, granularity: str,
               group_size: int = 32) -> torch.Tensor:
    g = _grouped(q.float(), granularity, group_size)
    if zero is not None:
        g = g - zero
    return (g * scale).reshape(q.shape)


def roundtrip(w: torch.Tensor, scheme: str, bits: int, granularity: str = "tensor", group_size: int = 32) -> Roundtrip:
    w = w.detach().float()
    q, scale, zero = quantize(w, scheme, bits, granularity, group_size)
    back = dequantize(q, scale, zero, granularity, group_size)
    err = back - w
    nonzero = w != 0
    zero_fraction = float(((back == 0) & nonzero).sum()) / max(1, int(nonzero.sum()))
    return Roundtrip(scheme, bits, granularity, group_size, q, scale, back, float((err ** 2).mean()),
                     float(err.abs().max()), int(torch.unique(q).numel()), zero_fraction)


def gguf_roundtrip(w: torch.Tensor, type_name: str) -> dict:
    """The same matrix through the `gguf` package's own reference quantiser (e.g. Q8_0, Q4_0, Q4_1):
    llama.cpp's block formats are per-group quantisation with 32 weights per block."""
    from gguf import GGMLQuantizationType, quants

    qtype = GGMLQuantizationType[type_name]
    data = w.detach().float().numpy().astype(np.float32)
    back = quants.dequantize(quants.quantize(data, qtype), qtype).reshape(data.shape)
    err = back - data
    block, type_size = quants.GGML_QUANT_SIZES[qtype]
    return {"label": f"GGUF {type_name}", "scheme": "gguf", "bits": round(8 * type_size / block, 2),
            "granularity": "group", "group_size": block, "mse": float((err ** 2).mean()),
            "max_err": float(np.abs(err).max()), "levels_used": None, "zero_fraction": None,
            "scales": int(data.size // block)}


def compare(w: torch.Tensor, group_size: int = 32, gguf_types: tuple[str, ...] = ("Q8_0", "Q4_0", "Q4_1")) -> list[dict]:
    """Every scheme × bits × granularity on the same matrix, then the GGUF block formats."""
    rows = [roundtrip(w, s, b, g, group_size).row() for b in (8, 4) for s in SCHEMES for g in GRANULARITIES]
    if w.shape[-1] % 32 == 0:
        rows += [gguf_roundtrip(w, t) for t in gguf_types]
    return rows


def outlier_demo(w: torch.Tensor, factor: float = 20.0, bits: int = 8, group_size: int = 32) -> dict:
    """Make the largest weight `factor` times bigger (as LLM outlier features are) and compare each
    granularity's error on the *other* weights before and after: per-tensor absmax suffers most."""
    w = w.detach().float().clone()
    idx = int(w.abs().argmax())
    spiked = w.clone().reshape(-1)
    spiked[idx] *= factor
    spiked = spiked.reshape(w.shape)
    mask = torch.ones(w.numel(), dtype=torch.bool)
    mask[idx] = False
    mask = mask.reshape(w.shape)
    rows = []
    for gran in GRANULARITIES:
        before = roundtrip(w, "absmax", bits, gran, group_size)
        after = roundtrip(spiked, "absmax", bits, gran, group_size)
        rows.append({"granularity": gran, "mse_before": float(((before.dequantized - w)[mask] ** 2).mean()),
                     "mse_after": float(((after.dequantized - spiked)[mask] ** 2).mean()),
                     "zero_fraction_before": before.zero_fraction, "zero_fraction_after": after.zero_fraction})
    return {"factor": factor, "bits": bits, "outlier_index": idx, "rows": rows}


def histogram(values: torch.Tensor, bins: int = 80, lim: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(counts (bins,), edges (bins+1,)) of a tensor's values, range ±lim (default max |value|)."""
    data = values.detach().float().reshape(-1).numpy()
    lim = lim or float(np.abs(data).max()) or 1.0
    return np.histogram(data, bins=bins, range=(-lim, lim))


def weight_names(model) -> list[str]:
    """Names of the 2-D Linear weights one can quantise by hand, in model order."""
    return [f"{name}.weight" for name, m in model.named_modules()
            if isinstance(m, torch.nn.Linear) and m.weight.ndim == 2]


def weight(model, name: str) -> torch.Tensor:
    """A detached float32 copy of one weight (the shared model is never modified)."""
    params = dict(model.named_parameters())
    if name not in params or params[name].ndim != 2:
        raise LabError("quantize.bad_weight", name=name, example=(weight_names(model) or ["?"])[0])
    return params[name].detach().float().clone()
