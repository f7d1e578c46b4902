"""Weight-only quantised Linear layers, written in plain torch, and whole-model quantisation.

    from apps.quantize.qlinear import quantize_model
    qmodel = quantize_model(lm.model, "int4", group_size=32)   # a new model; lm.model is untouched

Why our own layer and not a library: on this CPU-only torch 2.13 machine (checked 2026-12):
- torchao 0.18 installs, but its int4 weight-only path needs the CUDA-only `mslk` kernels, its CPU
  "intx" int4 keeps one int8 per weight (no size gain), and its int8 weight-only Linear ran ~7x
  slower than fp32 at batch 1 here;
- optimum-quanto 0.2.7 (in maintenance) installs, but its qint4 Linear fails under
  `torch.inference_mode` (the lab's generation engine) and ran ~200x slower than fp32 under no_grad;
- bitsandbytes NF4 needs CUDA (`method="nf4"` uses it there, see `apps.quantize.methods`).
So int8 and int4 are ~100 lines of torch below: the weight is stored as integers plus scales and
dequantised on the fly, one layer at a time, inside `forward`. Memory at rest shrinks by 4x / ~7x;
speed on CPU does not improve (fp32 matmuls are already fast and the dequantisation is extra work).
"""
from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn import functional as F

from apps.errors import LabError

METHODS_BITS = {"int8": 8, "int4": 4}


class QuantLinear(nn.Module):
    """A Linear whose weight is int8 per output channel (symmetric absmax) or int4 per group of
    `group_size` input columns (asymmetric, integer zero-point), packed two nibbles per byte.

    Buffers (out = out_features, k = in_features, g = groups per row):
      bits 8: qweight int8 (out, k), scale float32 (out, 1)
      bits 4: qweight uint8 (out, k/2) — column j in the low nibble, column j + k/2 in the high one;
              scale float16 (out, g), zero uint8 (out, g)
    """

    def __init__(self, in_features: int, out_features: int, bits: int, group_size: int,
                 bias: torch.Tensor | None, dtype: torch.dtype):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.bits, self.group_size, self.compute_dtype = bits, group_size, dtype
        self.register_buffer("qweight", torch.empty(0, dtype=torch.int8))
        self.register_buffer("scale", torch.empty(0))
        self.register_buffer("zero", torch.empty(0, dtype=torch.uint8))
        self.bias = nn.Parameter(bias.detach().clone(), requires_grad=False) if bias is not None else None

    @classmethod
    def from_linear(cls, linear: nn.Linear, bits: int, group_size: int = 32) -> "QuantLinear":
        weight = linear.weight.detach().float()
        out_f, in_f = weight.shape
        layer = cls(in_f, out_f, bits, group_size if bits == 4 else in_f, linear.bias, linear.weight.dtype)
        if bits == 8:
            scale = weight.abs().amax(dim=1, keepdim=True).clamp(min=1e-12) / 127  # (out, 1)
            layer.qweight = torch.round(weight / scale).clamp(-127, 127).to(torch.int8)
            layer.scale = scale
        elif bits == 4:
            if in_f % group_size or in_f % 2:
                raise LabError("quantize.group_mismatch", dim=in_f, group=group_size)
            groups = weight.reshape(out_f, in_f // group_size, group_size)  # (out, g, group_size)
            lo, hi = groups.amin(-1).clamp(max=0), groups.amax(-1).clamp(min=0)  # keep 0 exact
            scale = ((hi - lo) / 15).clamp(min=1e-8)
            zero = torch.round(-lo / scale).clamp(0, 15)
            q = (torch.round(groups / scale[..., None]) + zero[..., None]).clamp(0, 15).to(torch.uint8)
            q = q.reshape(out_f, in_f)
            half = in_f // 2
            layer.qweight = (q[:, :half] | (q[:, half:] << 4)).contiguous()
            layer.scale = scale.to(torch.float16)
            layer.zero = zero.to(torch.uint8)
        else:
            raise ValueError(f"bits must be 8 or 4, not {bits}")
        return layer

    @classmethod
    def empty(cls, linear: nn.Linear, bits: int, group_size: int = 32) -> "QuantLinear":
        """A layer of the right shapes and dtypes, to load saved values into (no quantising)."""
        out_f, in_f = linear.weight.shape
        layer = cls(in_f, out_f, bits, group_size if bits == 4 else in_f, linear.bias, linear.weight.dtype)
        if bits == 8:
            layer.qweight, layer.scale = torch.empty(out_f, in_f, dtype=torch.int8), torch.empty(out_f, 1)
        else:
            groups = in_f // group_size
            layer.qweight = torch.empty(out_f, in_f // 2, dtype=torch.uint8)
            layer.scale = torch.empty(out_f, groups, dtype=torch.float16)
            layer.zero = torch.empty(out_f, groups, dtype=torch.uint8)
        return layer

    def dequantize(self, dtype: torch.dtype | None = None) -> torch.Tensor:
        """The weight as floats, (out_features, in_features)."""
        dtype = dtype or self.compute_dtype
        if self.bits == 8:
            return self.qweight.to(dtype) * self.scale.to(dtype)  # one fused kernel per call
        q = torch.cat([self.qweight & 15, self.qweight >> 4], dim=1)  # (out, k) uint8 in 0..15
        q = q.reshape(self.out_features, -1, self.group_size).to(dtype)
        scale = self.scale.to(dtype)[..., None]
        offset = -self.zero.to(dtype)[..., None] * scale  # w = q * scale - zero * scale
        return torch.addcmul(offset, q, scale).reshape(self.out_features, self.in_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.bits == 8:
            # x @ (q * s)^T == (x @ q^T) * s for a per-output-channel s: one pass over the weight, not two
            y = F.linear(x, self.qweight.to(x.dtype)) * self.scale.to(x.dtype).view(-1)
            return y + self.bias if self.bias is not None else y
        return F.linear(x, self.dequantize(x.dtype), self.bias)

    def extra_repr(self) -> str:
        group = f", group_size={self.group_size}" if self.bits == 4 else ", per-channel"
        return f"in={self.in_features}, out={self.out_features}, int{self.bits}{group}"


def _targets(model: nn.Module) -> dict[str, nn.Linear]:
    """The Linear layers to quantise: every one except the output head (tied to the embedding in
    most small models, and the layer quality is most sensitive to, as in llama.cpp and bitsandbytes)."""
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    return {name: m for name, m in model.named_modules() if isinstance(m, nn.Linear) and m is not head}


def quantize_model(model: nn.Module, method: str, group_size: int = 32) -> nn.Module:
    """A new model with every Linear (but the output head) replaced by a QuantLinear.

    The source model is never modified (it may be the cache's shared copy): the copy skips the
    Linear weights it is about to replace, so the peak extra memory is the quantised model itself."""
    bits = METHODS_BITS[method]
    targets = _targets(model)
    skip = {id(m.weight): nn.Parameter(torch.empty(0), requires_grad=False) for m in targets.values()}
    new = copy.deepcopy(model, memo=dict(skip))
    for name, linear in targets.items():
        parent_name, _, child = name.rpartition(".")
        parent = new.get_submodule(parent_name) if parent_name else new
        setattr(parent, child, QuantLinear.from_linear(linear, bits, group_size))
    new.eval().requires_grad_(False)
    return new


def tensor_bytes(model: nn.Module) -> int:
    """Bytes held by a model's parameters and buffers, each storage counted once (tied weights)."""
    seen, total = set(), 0
    for t in list(model.parameters()) + list(model.buffers()):
        key = (t.untyped_storage().data_ptr(), t.dtype) if t.numel() else None
        if key is None or key in seen:
            continue
        seen.add(key)
        total += t.numel() * t.element_size()
    return total
