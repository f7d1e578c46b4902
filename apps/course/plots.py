"""The teacher's figure (matplotlib, no gradio): each exercise's solve rate among students who tried it."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from apps.i18n import t  # noqa: E402
from apps.tasks.plots import _use_cjk_font  # noqa: E402  (one place knows the CJK fonts)


def solve_rates(summary: dict, lang: str):
    """Horizontal bars, one per exercise (roadmap order, top to bottom), labelled solved/tried."""
    _use_cjk_font()
    rows = summary["exercises"]
    fig, ax = plt.subplots(figsize=(8, 0.8 + 0.32 * len(rows)), dpi=100)
    y = list(range(len(rows)))[::-1]  # first exercise at the top
    rates = [r["solve_rate"] for r in rows]
    colours = ["#2e7d32" if r >= 0.7 else "#f9a825" if r >= 0.4 else "#c62828" for r in rates]
    ax.barh(y, rates, color=[c if r["students"] else "#bdbdbd" for c, r in zip(colours, rows)])
    for yi, r in zip(y, rows):
        ax.text(min(r["solve_rate"], 0.98) + 0.01, yi, t("course.plot.label", lang, solved=r["solved"],
                students=r["students"]), va="center", fontsize=8)
    ax.set_yticks(y, [r["exercise"] for r in rows], fontsize=8)
    ax.set_xlim(0, 1.15)
    ax.set_xlabel(t("course.plot.rate", lang))
    ax.set_title(t("course.plot.title", lang), fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig
