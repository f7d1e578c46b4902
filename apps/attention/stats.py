"""Numbers that summarise what each head does, and where one token looks.

All functions take the (L, H, T, T) float array of `AttentionRun.attentions` (row = query token,
column = key token, rows sum to 1) and return plain numpy arrays or lists.

For causal models the first query row is skipped in the summaries: token 0 can only see itself,
so it would count as a perfect "sink" and a zero-entropy head in every layer.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STAT_NAMES = ("entropy", "distance", "first_token", "previous_token")


@dataclass
class HeadStats:
    """Per-head summaries, each (L, H) float64, averaged over query tokens."""

    entropy: np.ndarray  # bits; 0 = all attention on one token, log2(n) = spread evenly over n
    distance: np.ndarray  # mean |i − j| in tokens, weighted by attention
    first_token: np.ndarray  # share of attention on token 0 (the "attention sink")
    previous_token: np.ndarray  # share on token i − 1 (previous-token heads feed induction heads)

    def as_dict(self, decimals: int = 4) -> dict:
        return {name: np.round(getattr(self, name), decimals).tolist() for name in STAT_NAMES}


def head_stats(attentions: np.ndarray, causal: bool) -> HeadStats:
    """Entropy, distance, first-token and previous-token share of every head; see HeadStats."""
    p = attentions.astype(np.float64)  # (L, H, T, T)
    T = p.shape[-1]
    rows = slice(1, None) if causal and T > 1 else slice(None)
    i = np.arange(T)[:, None]
    j = np.arange(T)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log2(p), 0.0)
    entropy = -plogp.sum(-1)  # (L, H, T)
    distance = (p * np.abs(i - j)).sum(-1)  # (L, H, T)
    first = p[..., 0]  # (L, H, T)
    previous = np.zeros_like(first)
    if T > 1:
        previous[..., 1:] = np.diagonal(p, offset=-1, axis1=-2, axis2=-1)  # p[i, i-1]
    prev_rows = slice(1, None) if T > 1 else slice(None)
    return HeadStats(
        entropy=entropy[..., rows].mean(-1), distance=distance[..., rows].mean(-1),
        first_token=first[..., rows].mean(-1), previous_token=previous[..., prev_rows].mean(-1),
    )


def token_targets(attentions: np.ndarray, query: int, head: int | None = None, top: int = 3) -> list[list[tuple[int, float]]]:
    """Where token `query` looks, per layer: its `top` strongest key tokens as (index, weight).

    head=None averages the heads of each layer (what the layer as a whole reads from)."""
    T = attentions.shape[-1]
    if not 0 <= query < T:
        raise IndexError(f"token {query} is outside 0..{T - 1}")
    rows = look_map(attentions, query, head)  # (L, T)
    out = []
    for row in rows:
        order = np.argsort(-row, kind="stable")[:top]
        out.append([(int(k), float(row[k])) for k in order])
    return out


def look_map(attentions: np.ndarray, query: int, head: int | None = None) -> np.ndarray:
    """(L, T) attention of token `query` over all tokens, per layer (one head, or the heads' mean)."""
    if head is None:
        return attentions[:, :, query, :].mean(axis=1)
    return attentions[:, head, query, :]
