import torch


def lora_forward(x, W, A, B, alpha: float, r: int) -> torch.Tensor:
    """x: (N, d_in); W: (d_out, d_in) the frozen weight; A: (r, d_in); B: (d_out, r).
    Return (N, d_out): what a LoRA-wrapped nn.Linear (no bias) outputs, i.e. with W + (α/r)·B·A."""
    raise NotImplementedError
