"""Worked solution: one causal attention head."""
import math

import torch


def causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    # q, k, v: (T, hd) for one head, RoPE already applied to q and k.
    T, hd = q.shape
    scores = q @ k.T / math.sqrt(hd)  # (T, T): how much token i looks for what token j offers
    future = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)  # j > i
    scores = scores.masked_fill(future, float("-inf"))  # a decoder never sees later tokens
    weights = scores.softmax(dim=-1)  # each row sums to 1
    return weights @ v  # (T, hd): a weighted mix of the values
