"""Matplotlib figures for the Attention tab: one head's heatmap, the per-head summary across layers,
where one token looks in every layer, and the from-scratch agreement map.

Each function returns a `matplotlib.figure.Figure` (gr.Plot shows it; the CLI could save it).
`labels` is a dict of already-translated captions, so this module knows no UI language; when no
CJK font is installed the caller passes English captions (`apps.plotting.caption_lang` tells).
"""
from __future__ import annotations

import numpy as np

from apps.attention.stats import STAT_NAMES, HeadStats
from apps.plotting import plt, style

MAX_TICKS = 48  # beyond this many tokens, label every n-th one


def _style():
    return style(**{"font.size": 9})


def _tick_labels(tokens: list[str]) -> tuple[list[int], list[str]]:
    step = max(1, int(np.ceil(len(tokens) / MAX_TICKS)))
    idx = list(range(0, len(tokens), step))
    return idx, [f"{tokens[i]!r}"[1:-1][:12] for i in idx]  # repr shows spaces and newlines


def heatmap(weights: np.ndarray, tokens: list[str], title: str, xlabel: str, ylabel: str):
    """(T, T) weights of one head: rows = the token looking (query), columns = the token looked at."""
    T = len(tokens)
    size = min(9.0, 3.0 + T * 0.18)
    with _style():
        fig, ax = plt.subplots(figsize=(size + 1.2, size), dpi=100)
        im = ax.imshow(weights, cmap="viridis", vmin=0.0, vmax=max(1e-6, float(weights.max())), aspect="equal")
        idx, text = _tick_labels(tokens)
        ax.set_xticks(idx, text, rotation=90)
        ax.set_yticks(idx, text)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
        fig.tight_layout()
    return fig


def summary(stats: HeadStats, titles: dict[str, str], xlabel: str, ylabel: str):
    """Four (L, H) maps side by side: entropy, distance, first-token share, previous-token share."""
    n_layers, n_heads = stats.entropy.shape
    height = min(10.0, 2.0 + n_layers * 0.22)
    width = min(16.0, 4 * (1.6 + n_heads * 0.28))
    cmaps = {"entropy": "magma", "distance": "cividis", "first_token": "Reds", "previous_token": "Blues"}
    with _style():
        fig, axes = plt.subplots(1, 4, figsize=(width, height), dpi=100)
        for ax, name in zip(axes, STAT_NAMES):
            values = getattr(stats, name)
            vmax = 1.0 if name in ("first_token", "previous_token") else None
            im = ax.imshow(values, cmap=cmaps[name], aspect="auto", vmin=0.0, vmax=vmax, origin="upper")
            ax.set_title(titles[name], fontsize=9)
            ax.set_xlabel(xlabel)
            ax.set_xticks(range(n_heads))
            ax.set_yticks(range(0, n_layers, max(1, n_layers // 15)))
            fig.colorbar(im, ax=ax, fraction=0.08, pad=0.03)
        axes[0].set_ylabel(ylabel)
        fig.tight_layout(rect=(0.03, 0, 1, 0.95))  # room for the Plot's own label in the corner
    return fig


def token_look(rows: np.ndarray, tokens: list[str], query: int, title: str, xlabel: str, ylabel: str):
    """(L, T) map: in each layer (row), how token `query` spreads its attention over the tokens."""
    n_layers, T = rows.shape
    with _style():
        fig, ax = plt.subplots(figsize=(min(14.0, 3.0 + T * 0.22), min(9.0, 1.5 + n_layers * 0.22)), dpi=100)
        im = ax.imshow(rows, cmap="viridis", aspect="auto", vmin=0.0)
        idx, text = _tick_labels(tokens)
        ax.set_xticks(idx, text, rotation=90)
        if query in idx:  # mark the token doing the looking
            ax.get_xticklabels()[idx.index(query)].set_color("red")
        ax.set_yticks(range(0, n_layers, max(1, n_layers // 15)))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
        fig.tight_layout()
    return fig


def agreement_map(diffs: np.ndarray, title: str, xlabel: str, ylabel: str):
    """(L, H) max |from scratch − model| on a log scale; NaN cells (not checked) stay blank."""
    n_layers, n_heads = diffs.shape
    shown = np.log10(np.maximum(diffs, 1e-12))
    with _style():
        fig, ax = plt.subplots(figsize=(min(8.0, 2.5 + n_heads * 0.35), min(9.0, 1.5 + n_layers * 0.22)), dpi=100)
        im = ax.imshow(shown, cmap="RdYlGn_r", vmin=-12, vmax=0, aspect="auto")
        ax.set_xticks(range(n_heads))
        ax.set_yticks(range(0, n_layers, max(1, n_layers // 15)))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        bar = fig.colorbar(im, ax=ax, fraction=0.08, pad=0.04)
        bar.set_label("log10 max |Δ|")
        fig.tight_layout()
    return fig


def compare(model_w: np.ndarray, scratch_w: np.ndarray, tokens: list[str], titles: tuple[str, str],
            xlabel: str, ylabel: str):
    """Two (T, T) maps side by side: what the model reports and what the from-scratch code computes."""
    T = len(tokens)
    size = min(6.0, 2.5 + T * 0.12)
    with _style():
        fig, axes = plt.subplots(1, 2, figsize=(2 * size + 1.0, size), dpi=100)
        idx, text = _tick_labels(tokens)
        vmax = max(1e-6, float(model_w.max()))
        for ax, weights, title in zip(axes, (model_w, scratch_w), titles):
            im = ax.imshow(weights, cmap="viridis", vmin=0.0, vmax=vmax)
            ax.set_xticks(idx, text, rotation=90)
            ax.set_yticks(idx, text)
            ax.set_title(title)
            ax.set_xlabel(xlabel)
        axes[0].set_ylabel(ylabel)
        fig.colorbar(im, ax=list(axes), fraction=0.03, pad=0.02)
    return fig
