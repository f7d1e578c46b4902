"""Worked solution: a LoRA layer's forward pass."""
import torch


def lora_forward(x, W, A, B, alpha: float, r: int) -> torch.Tensor:
    # x: (N, d_in); W: (d_out, d_in) frozen; A: (r, d_in); B: (d_out, r).
    # y = x·Wᵀ + (α/r)·x·Aᵀ·Bᵀ; never build the d_out × d_in matrix B·A: two thin products are cheaper.
    return x @ W.T + (alpha / r) * ((x @ A.T) @ B.T)
