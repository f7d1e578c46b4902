"""The arena's tables as a learner reads them, in zh or en (no gradio): the leaderboard, the
latest votes, and vote counts with their plural. The view turns these into gr.Dataframe values;
they are plain (headers, rows) so a language switch re-renders them from the same numbers.

    headers, rows = leaderboard_table(ratings.leaderboard(battles), "bt", 4.0, "zh")
"""
from __future__ import annotations

import time

from apps.arena.ratings import MIN_VOTES, PRIOR_SD
from apps.i18n import t

LB_KEYS = ("rank", "model", "rating", "ci", "other", "votes", "wins", "ties", "losses")
RECENT_KEYS = ("tstamp", "source", "model_a", "model_b", "winner", "prompt")


def votes_text(n: int, lang: str) -> str:
    """'1 vote' / '2 votes' / '1 票'."""
    return t("arena.n_votes", lang, n=n)


def method_name(method: str, k: float, lang: str) -> str:
    return t("arena.method.bt", lang, sd=f"{PRIOR_SD:.0f}") if method == "bt" else \
        t("arena.method.elo", lang, k=f"{k:g}")


def leaderboard_table(rows: list[dict], method: str, k: float, lang: str) -> tuple[list[str], list[list]]:
    """Headers and cells of the leaderboard: the rank (or "not enough votes yet: n/MIN_VOTES"), the
    rating of `method`, its 95 % interval, the other method's rating on the same scale, and counts."""
    other = "elo" if method == "bt" else "bt"
    headers = [t(f"arena.col.{key}", lang) for key in LB_KEYS]
    headers[LB_KEYS.index("rating")] = method_name(method, k, lang)
    headers[LB_KEYS.index("other")] = method_name(other, k, lang)
    cells = []
    for r in rows:
        rank = r["rank"] if r["rank"] is not None else t("arena.lb_few", lang, n=r["votes"], need=MIN_VOTES)
        ci = f"{r['ci_low']:.0f} – {r['ci_high']:.0f}" if r.get("ci_low") is not None else "–"
        cells.append([rank, r["model"], round(r["rating"], 1), ci, round(r[other], 1), r["votes"], r["wins"],
                      r["ties"], r["losses"]])
    return headers, cells


def recent_table(rows: list[dict], lang: str) -> tuple[list[str], list[list]]:
    """Headers and cells of the latest votes (VoteStore.rows dicts), times as local YYYY-MM-DD HH:MM."""
    headers = [t(f"arena.col.{key}", lang) for key in RECENT_KEYS]
    cells = []
    for r in rows:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r["tstamp"])) if r.get("tstamp") else ""
        winner = r["winner"]
        cells.append([when, t(f"arena.source.{r['source']}", lang), r["model_a"], r["model_b"],
                      t(f"arena.winner.{WINNER_KEYS[winner]}", lang) if winner in WINNER_KEYS else winner,
                      (r.get("prompt") or "")[:120]])
    return headers, cells


WINNER_KEYS = {"model_a": "a", "model_b": "b", "tie": "tie", "tie (bothbad)": "bothbad"}
