"""The arena's tables as shown: translated headers, the "not enough votes yet" rank, both ratings on
one row, the latest votes with readable times and verdicts, and "1 vote" / "2 votes"."""
import time

from apps.arena import board, ratings
from apps.i18n import t


def test_vote_counts_speak_singular_and_plural():
    assert board.votes_text(1, "en") == "1 vote" and board.votes_text(2, "en") == "2 votes"
    assert board.votes_text(0, "en") == "0 votes" and board.votes_text(1, "zh") == "1 票"
    # the import/export lines, the pool and the leaderboard summary count the same way
    imported = t("arena.io_imported", "en", added=board.votes_text(1, "en"), skipped=0, total=board.votes_text(1, "en"))
    assert imported == "Imported 1 vote (0 already there, not added again). 1 vote in all."
    assert t("arena.io_exported", "en", votes=board.votes_text(3, "en")) == "Exported 3 votes."
    assert t("arena.pool_set", "en", n=1) == "The list now has 1 contestant."
    summary = t("arena.lb_summary", "en", votes=board.votes_text(1, "en"), m=2, voters=1, human=1, judge=0, imported=0)
    assert summary.startswith("**1 vote**, **2** contestants, **1** voter (")
    assert t("arena.need_two", "en", n=1).endswith("(there is 1).")


def test_leaderboard_table_in_both_languages():
    recs = [{"model_a": "x", "model_b": "y", "winner": "model_a"}] * 12 + [{"model_a": "z", "model_b": "x", "winner": "tie"}]
    rows = ratings.leaderboard(ratings.Battles.from_records(recs))
    headers, cells = board.leaderboard_table(rows, "bt", 4, "en")
    assert headers == ["Rank", "Contestant", "Bradley-Terry (prior σ=200)", "95% interval", "Elo (K=4)", "Votes",
                       "Wins", "Ties", "Losses"]
    by_model = {c[1]: c for c in cells}
    assert by_model["x"][0] == 1 and by_model["z"][0] == "not enough votes yet (1/10)"
    x = next(r for r in rows if r["model"] == "x")
    assert by_model["x"][3] == f"{x['ci_low']:.0f} – {x['ci_high']:.0f}" and by_model["x"][4] == round(x["elo"], 1)
    zh_headers, zh_cells = board.leaderboard_table(rows, "elo", 8, "zh")
    assert zh_headers[0] == "排名" and zh_headers[2] == "Elo（K=8）" and zh_headers[4].startswith("Bradley-Terry")
    assert "票数不足（1/10）" in [c[0] for c in zh_cells]


def test_recent_table():
    stamp = time.mktime((2026, 12, 3, 9, 5, 0, 0, 0, -1))
    rows = [{"tstamp": stamp, "source": "human", "model_a": "x", "model_b": "y", "winner": "tie (bothbad)",
             "prompt": "问" * 200}]
    headers, [cell] = board.recent_table(rows, "en")
    assert headers == ["Time", "Source", "Contestant A", "Contestant B", "Verdict", "Prompt"]
    assert cell[:5] == ["2026-12-03 09:05", "Human", "x", "y", "Both bad"] and len(cell[5]) == 120
    assert board.recent_table(rows, "zh")[1][0][4] == "都不好"
