"""apps.align.prefs and `llmlab align prefs|score` on a real SQLite vote store: votes → preference
pairs → JSONL → apps.finetune.data.load(…, "dpo"), with exclusions, counts and owner scoping."""
import json

import pytest

from apps.align import prefs
from apps.arena.store import Vote, VoteStore
from apps.auth.users import LOCAL, STUDENT, TEACHER, User
from apps.cli import main
from apps.errors import LabError
from apps.finetune import data

ANN, BOB, ZED = User("c1-u1", "Ann", STUDENT, 1), User("c1-u2", "Bob", STUDENT, 1), User("c2-u5", "Zed", STUDENT, 2)
TEACHER1 = User("c1-u9", "T", TEACHER, 1)


def vote(session, winner, n, source="human", t=0.0):
    return Vote(model_a="m1", model_b="m2", winner=winner, prompt=f"prompt {n}", response_a=f"reply A{n}",
                response_b=f"reply B{n}", session=session, source=source, tstamp=t or float(n))


@pytest.fixture
def store(tmp_path):
    s = VoteStore(tmp_path / "arena.db")
    for v in [vote(ANN.id, "model_a", 1), vote(ANN.id, "model_b", 2), vote(ANN.id, "tie", 3),
              vote(BOB.id, "tie (bothbad)", 4), vote(BOB.id, "model_b", 5), vote(ZED.id, "model_a", 6),
              vote(ANN.id, "model_a", 7, source="judge"), vote("", "model_b", 8, source="import"),
              vote(BOB.id, "model_a", 9, t=0.5)]:  # voted first: rows come oldest first
        assert s.add(v)
    s.add(Vote(model_a="m1", model_b="m2", winner="model_a", prompt="p", response_a="same", response_b="same",
               session=ANN.id, tstamp=10.0))  # both replies equal: nothing to learn
    return s


def test_pairs_exclusions_and_counts(store):
    rows, counts = prefs.preferences(store, ANN)
    assert rows == [{"prompt": "prompt 1", "chosen": "reply A1", "rejected": "reply B1"},
                    {"prompt": "prompt 2", "chosen": "reply B2", "rejected": "reply A2"}]
    assert counts == {"votes": 5, "kept": 2, "ties": 1, "both_bad": 0, "other_sources": 1, "unusable": 1,
                      "sources": ["human"]}
    rows, counts = prefs.preferences(store, ANN, sources=("human", "judge"))
    assert counts["kept"] == 3 and counts["other_sources"] == 0
    assert {"prompt": "prompt 7", "chosen": "reply A7", "rejected": "reply B7"} in rows


def test_owner_scoping(store):
    """A student gets their own votes, a teacher their class's, the personal-mode user everything."""
    bob, _ = prefs.preferences(store, BOB)
    assert [r["prompt"] for r in bob] == ["prompt 9", "prompt 5"]
    teacher, counts = prefs.preferences(store, TEACHER1)
    assert [r["prompt"] for r in teacher] == ["prompt 9", "prompt 1", "prompt 2", "prompt 5"]
    assert "prompt 6" not in {r["prompt"] for r in teacher} and counts["both_bad"] == 1
    everything, counts = prefs.preferences(store, LOCAL, sources=prefs.SOURCES)
    assert counts["votes"] == 10 and counts["kept"] == 7
    with pytest.raises(LabError):
        prefs.preferences(store, None)
    with pytest.raises(LabError):
        prefs.preferences(store, ANN, sources=("teacher-said-so",))


def test_jsonl_round_trip_into_the_dpo_loader(store, tmp_path):
    rows, _ = prefs.preferences(store, LOCAL)
    path = prefs.export_jsonl(rows, tmp_path / "out" / "prefs.jsonl")
    loaded = data.load(str(path), "dpo")
    assert len(loaded.pairs) == len(rows) == 5 and loaded.fmt == "preference"
    for row, pair in zip(rows, loaded.pairs):
        assert pair == {"prompt": [{"role": "user", "content": row["prompt"]}],
                        "chosen": [{"role": "assistant", "content": row["chosen"]}],
                        "rejected": [{"role": "assistant", "content": row["rejected"]}]}
    assert len(data.load(str(path), "reward").pairs) == 5


def test_cli_prefs_json(store, tmp_path, capsys):
    out = tmp_path / "p.jsonl"
    assert main(["align", "prefs", "--db", str(store.path), "--output", str(out), "--json"]) == 0
    counts = json.loads(capsys.readouterr().out)
    assert counts["kept"] == 5 and counts["ties"] == 1 and counts["both_bad"] == 1 and counts["other_sources"] == 2
    assert len(out.read_text().splitlines()) == 5
    assert main(["align", "prefs", "--db", str(store.path), "--output", str(out), "--include", "judge"]) == 0
    assert "6" in capsys.readouterr().out and len(out.read_text().splitlines()) == 6


def test_cli_bad_input_exits_2(store, tmp_path, capsys):
    empty = VoteStore(tmp_path / "empty.db")
    assert main(["align", "prefs", "--db", str(empty.path), "--output", str(tmp_path / "x.jsonl")]) == 2
    assert "No preference pairs" in capsys.readouterr().err and not (tmp_path / "x.jsonl").exists()
    with pytest.raises(SystemExit) as exit_info:  # a folder is not a file to write
        main(["align", "prefs", "--db", str(store.path), "--output", str(tmp_path)])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["align", "prefs", "--output", str(tmp_path / "y.jsonl"), "--include", "rumours"])
    assert exit_info.value.code == 2
    assert main(["align", "score", "--model", str(tmp_path / "nope"), "--prompt", "hi", "--reply", "yo"]) == 2
    assert "not a reward model" in capsys.readouterr().err
    assert main(["align", "score", "--model", str(tmp_path), "--prompt", " ", "--reply", "yo", "--json"]) == 2
    captured = capsys.readouterr()
    assert "--prompt must not be empty" in captured.err and json.loads(captured.out)["error"]["key"] == "align.empty_text"
