import math

import torch


def causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """q, k, v: (T, hd) float tensors of one head (RoPE already applied to q and k).
    Return (T, hd): softmax(q·kᵀ / √hd, with token i unable to see tokens j > i) · v."""
    raise NotImplementedError
