"""The teacher's figure (matplotlib, no gradio): each exercise's solve rate among students who tried it."""
from __future__ import annotations

from apps.i18n import t
from apps.plotting import caption_lang, plt, style


def _title(exercise_id: str, lang: str, width: int = 36) -> str:
    """The exercise's title in `lang` (its id if it is no longer in the curriculum), cut to fit the axis."""
    from curriculum import exercises

    try:
        title = exercises.get(exercise_id).title_in(lang)
    except Exception:  # noqa: BLE001 - an attempt at an exercise since removed
        return exercise_id
    return title if len(title) <= width else title[:width - 1] + "…"


def solve_rates(summary: dict, lang: str):
    """Horizontal bars, one per exercise (roadmap order, top to bottom), labelled solved/tried."""
    lang = caption_lang(lang)
    with style():
        return _solve_rates(summary, lang)


def _solve_rates(summary: dict, lang: str):
    rows = summary["exercises"]
    fig, ax = plt.subplots(figsize=(8, 0.8 + 0.32 * len(rows)), dpi=100)
    y = list(range(len(rows)))[::-1]  # first exercise at the top
    rates = [r["solve_rate"] for r in rows]
    colours = ["#2e7d32" if r >= 0.7 else "#f9a825" if r >= 0.4 else "#c62828" for r in rates]
    ax.barh(y, rates, color=[c if r["students"] else "#bdbdbd" for c, r in zip(colours, rows)])
    for yi, r in zip(y, rows):
        ax.text(min(r["solve_rate"], 0.98) + 0.01, yi, t("course.plot.label", lang, solved=r["solved"],
                students=r["students"]), va="center", fontsize=8)
    ax.set_yticks(y, [_title(r["exercise"], lang) for r in rows], fontsize=8)
    ax.set_xlim(0, 1.15)
    ax.set_xlabel(t("course.plot.rate", lang))
    ax.set_title(t("course.plot.title", lang), fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig
