"""Matplotlib figures for the arena (no gradio): rating bars with intervals, win-rate and
battle-count heatmaps, and per-token losses. Each returns a Figure the view puts in a gr.Plot."""
from __future__ import annotations

import numpy as np

from apps.i18n import t
from apps.plotting import caption_lang, cjk_font, plt

plt.rcParams["font.sans-serif"] = ([cjk_font()] if cjk_font() else []) + ["DejaVu Sans"]
plt.rcParams["axes.unicode_minus"] = False


def _short(name: str, n: int = 28) -> str:
    """Cut the middle, not the end: 'smollm2-135m-instruct@creative' → 'smollm2-1…ct@creative'."""
    if len(name) <= n:
        return name
    tail = n // 2 + 2
    return name[: n - tail - 1] + "…" + name[-tail:]


def ratings_bar(rows: list[dict], lang: str = "en"):
    """One dot per model (best on top) with its bootstrap 95 % interval as a bar: overlapping
    intervals are the picture of "not yet told apart"."""
    lang = caption_lang(lang)  # zh captions only where a font can draw them
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * max(3, len(rows)) + 1))
    names = [_short(r["model"], 34) for r in rows][::-1]
    vals = np.array([r["rating"] for r in rows][::-1])
    if rows and rows[0].get("ci_low") is not None:
        lo = np.array([r["ci_low"] for r in rows][::-1])
        hi = np.array([r["ci_high"] for r in rows][::-1])
        ax.errorbar(vals, names, xerr=[vals - lo, hi - vals], fmt="none", ecolor="#6c8ebf", elinewidth=6, alpha=0.5)
    ax.plot(vals, names, "o", color="#1f3b73")
    ax.set_xlabel(t("arena.plot.rating", lang))
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def heatmap(matrix: np.ndarray, models: list[str], title_key: str, lang: str = "en", kind: str = "rate",
            order: list[int] | None = None):
    """A labelled heatmap of an (M, M) matrix, rows = model A, columns = model B; NaN left blank.
    kind 'rate': a share in [0, 1] on a diverging map centred on 0.5; 'count': battles, 0 upwards."""
    lang = caption_lang(lang)  # zh captions only where a font can draw them
    rate = kind == "rate"
    fmt = "{:.2f}" if rate else "{:.0f}"
    order = order if order is not None else list(range(len(models)))
    mat = matrix[np.ix_(order, order)]
    names = [_short(models[i], 24) for i in order]
    size = 1.2 + 0.6 * len(names)
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    im = ax.imshow(np.ma.masked_invalid(mat), cmap="RdBu" if rate else "Blues", vmin=0.0,
                   vmax=1.0 if rate else None)
    ax.set_xticks(range(len(names)), names, rotation=40, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel(t("arena.plot.model_b", lang))
    ax.set_ylabel(t("arena.plot.model_a", lang))
    ax.set_title(t(title_key, lang), fontsize=9)
    if len(names) <= 12:
        for i in range(len(names)):
            for j in range(len(names)):
                if not np.isnan(mat[i, j]) and i != j:
                    ax.text(j, i, fmt.format(mat[i, j]), ha="center", va="center", fontsize=8)
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig


def token_losses(results: list[dict], lang: str = "en"):
    """Loss of each token (nats) along the text, one line per model, smoothed over 16 tokens."""
    lang = caption_lang(lang)  # zh captions only where a font can draw them
    fig, ax = plt.subplots(figsize=(8, 3.2))
    for res in results:
        losses = np.asarray(res.get("losses") or [])
        if losses.size == 0:
            continue
        k = min(16, losses.size)
        smooth = np.convolve(losses, np.ones(k) / k, mode="valid")
        ax.plot(np.arange(smooth.size) + k - 1, smooth,
                label=f"{res['model']} (loss {res['mean_loss']:.2f}, ppl {res['perplexity']:.1f})")
    ax.set_xlabel(t("arena.plot.token", lang))
    ax.set_ylabel(t("arena.plot.loss", lang))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
