"""Figures for the task lab (matplotlib, no gradio): the confusion matrix and per-item ROUGE bars."""
from __future__ import annotations

from apps.plotting import cjk_font, plt


def _use_cjk_font() -> None:
    """Chinese labels need a CJK font; use it when one is installed (else boxes, but no crash)."""
    font = cjk_font()
    plt.rcParams["font.sans-serif"] = ([font] if font else []) + ["DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False


def confusion_figure(matrix: list[list[int]], labels: list[str], columns: list[str], title: str = "",
                     xlabel: str = "predicted", ylabel: str = "gold"):
    """matrix: int (L, C) rows = gold labels, columns = predicted labels (+ unparsed)."""
    _use_cjk_font()
    n_rows, n_cols = len(matrix), len(columns)
    fig, ax = plt.subplots(figsize=(1.0 + 0.8 * n_cols, 0.8 + 0.6 * n_rows), dpi=100)
    ax.imshow(matrix, cmap="Blues", aspect="auto")
    peak = max((v for row in matrix for v in row), default=0) or 1
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            ax.text(j, i, str(value), ha="center", va="center", color="white" if value > peak / 2 else "black")
    ax.set_xticks(range(n_cols), columns, rotation=35, ha="right")
    ax.set_yticks(range(n_rows), labels)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def rouge_figure(rows: list[dict], title: str = ""):
    """Grouped bars of ROUGE-1/2/L F1 per item (items without a reference are skipped)."""
    _use_cjk_font()
    scored = [r for r in rows if "rouge1" in r]
    fig, ax = plt.subplots(figsize=(max(4.0, 0.55 * len(scored) + 1.5), 3.0), dpi=100)
    width = 0.27
    for k, key in enumerate(("rouge1", "rouge2", "rougeL")):
        ax.bar([i + (k - 1) * width for i in range(len(scored))], [r[key] for r in scored], width, label=key)
    ax.set_xticks(range(len(scored)), [str(r["id"]) for r in scored], rotation=35, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("F1")
    ax.legend(loc="upper right", fontsize="small", ncol=3)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
