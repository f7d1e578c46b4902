"""`llmlab arena ratings|export|import` end to end through the real CLI entry point."""
import json

import pytest

from apps.arena import ratings, votefile
from apps.cli import main

TRUE = {"big": 1200.0, "mid": 1000.0, "small": 800.0}


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, out


def test_ratings_json_bt_and_elo(tmp_path, capsys):
    votes = tmp_path / "votes.jsonl"
    votefile.write(votes, ratings.synthetic(TRUE, 1500, seed=9))
    code, out = run(capsys, "arena", "ratings", "--votes", str(votes), "--bootstrap", "100", "--json", "--matrices")
    assert code == 0
    data = json.loads(out)
    assert [r["model"] for r in data["leaderboard"]] == ["big", "mid", "small"]
    assert data["votes"] == 1500 and data["method"] == "bt" and data["leaderboard"][0]["ci_low"] is not None
    m = data["matrices"]
    i, j = m["models"].index("big"), m["models"].index("small")
    assert m["win_rate"][i][j] > 0.5 and m["count"][i][j] == m["count"][j][i]
    code, out = run(capsys, "arena", "ratings", "--votes", str(votes), "--method", "elo", "--k", "16", "--json")
    assert code == 0 and json.loads(out)["leaderboard"][0]["model"] == "big"
    code, out = run(capsys, "arena", "ratings", "--votes", str(votes))
    assert code == 0 and "rank" in out and "big" in out.splitlines()[1]


def test_export_import_and_rate_the_db(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    votefile.write(src, ratings.synthetic(TRUE, 200, seed=1))
    db = tmp_path / "arena.db"
    code, out = run(capsys, "arena", "import", "--votes", str(src), "--db", str(db), "--json")
    assert code == 0 and json.loads(out)["added"] == 200
    code, out = run(capsys, "arena", "import", "--votes", str(src), "--db", str(db), "--json")
    assert json.loads(out) ["added"] == 0 and json.loads(out)["already_there"] == 200
    dst = tmp_path / "out.jsonl"
    code, out = run(capsys, "arena", "export", "--out", str(dst), "--db", str(db), "--json")
    assert code == 0 and json.loads(out)["exported"] == 200
    assert dst.read_bytes() == src.read_bytes()
    code, out = run(capsys, "arena", "ratings", "--db", str(db), "--json")
    assert code == 0 and json.loads(out)["votes"] == 200


def test_errors_exit_2_with_a_message(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"model_a": "x", "model_b": "y", "winner": "maybe"}\n')
    assert main(["arena", "ratings", "--votes", str(bad)]) == 2
    assert "winner" in capsys.readouterr().err
    # A missing file stops the parser (apps.cliargs): exit 2, the message on stderr.
    with pytest.raises(SystemExit) as stop:
        main(["arena", "ratings", "--votes", str(tmp_path / "missing.jsonl"), "--json"])
    assert stop.value.code == 2 and "No such file" in capsys.readouterr().err
    assert main(["arena", "ratings", "--db", str(bad), "--json"]) == 2  # LabErrors after parsing: JSON too
    assert json.loads(capsys.readouterr().out)["error"]["key"] == "arena.bad_db"
