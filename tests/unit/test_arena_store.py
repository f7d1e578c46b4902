"""The vote store: WAL, restarts, Arena-format export/import round trips, and 50 concurrent
voters through the app's own vote path (Arena.vote) losing and duplicating nothing."""
import json
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from apps.arena import votefile
from apps.arena.battles import Arena
from apps.arena.ratings import Battles, leaderboard, synthetic
from apps.arena.store import Vote, VoteStore
from apps.errors import LabError

ROOT = Path(__file__).resolve().parents[2]
POOL = ["smollm2-135m-instruct", "gemma-3-270m", "smollm2-135m-instruct@balanced", "smollm2-135m-instruct@creative"]


def finished_battle(arena, prompt, session, reply_a="A says hi", reply_b="B says 你好"):
    """A battle whose answers are in, as after Arena.run (generation is tested in integration)."""
    battle = arena.new_battle(prompt, session=session)
    battle.responses = [reply_a, reply_b]
    battle.finished = True
    return battle


def test_wal_and_survives_restart(tmp_path):
    db = tmp_path / "arena.db"
    store = VoteStore(db)
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    arena = Arena(store, pool=POOL)
    battle = finished_battle(arena, "Say hi", "sess-1")
    reveal = arena.vote(battle, "model_b")
    assert reveal["stored"] and reveal["model_a"] in [c.name for c in arena.pool]
    assert arena.vote(battle, "model_b")["stored"] is False  # a retry is not a second vote
    with pytest.raises(LabError):
        arena.vote(battle, "model_a")  # changing one's mind after the reveal is not allowed
    del store, arena
    again = VoteStore(db)  # a new process would see the same file
    [rec] = again.records()
    assert rec["winner"] == "model_b" and rec["conversation_b"][1]["content"] == "B says 你好"
    assert rec["llmlab"]["settings_a"]["kind"] in ("model", "decoding")
    assert rec["llmlab"]["session"] == "sess-1" and rec["anony"] is True
    row = again.rows()[0]
    assert row["source"] == "human" and row["prompt"] == "Say hi"
    assert again.rows(session="sess-1") == [row] and again.rows(session="someone-else") == []


def test_export_import_round_trip_is_exact(tmp_path):
    store = VoteStore(tmp_path / "a.db")
    arena = Arena(store, pool=POOL)
    for i, w in enumerate(["model_a", "model_b", "tie", "tie (bothbad)"]):
        arena.vote(finished_battle(arena, f"q{i} «引号» \"quotes\"", f"s{i}"), w)
    store.add(Vote("x", "y", "model_a", source="judge", judge="llm-judge:lab/smollm2", mode="judge"))
    first = tmp_path / "first.jsonl"
    assert store.export_file(first) == 5
    other = VoteStore(tmp_path / "b.db")
    assert other.import_file(first) == (5, 0)
    assert other.import_file(first) == (0, 5)  # importing twice adds nothing
    second = tmp_path / "second.jsonl"
    other.export_file(second)
    assert first.read_bytes() == second.read_bytes()
    assert other.count("judge") == 1 and other.count("human") == 4


def test_import_arena_public_format(tmp_path):
    """Records shaped like lm-sys's clean_battle JSON (a JSON list, their own fields) load, keep
    every field, rank, and come back out identical as records."""
    records = [
        {"model_a": "gpt-4", "model_b": "vicuna-13b", "winner": "model_a", "judge": "arena_user_1",
         "turn": 1, "anony": True, "language": "English", "tstamp": 1682351591.1322,
         "num_tokens_info": {"a": 10}, "is_code": False, "question_id": "qid-1"},
        {"model_a": "vicuna-13b", "model_b": "gpt-4", "winner": "tie (bothbad)", "judge": "arena_user_2",
         "turn": 1, "anony": True, "language": "Chinese", "tstamp": 1682351600, "question_id": "qid-2",
         "conversation_a": [{"role": "user", "content": "你好"}, {"role": "assistant", "content": "您好！"}],
         "conversation_b": [{"role": "user", "content": "你好"}, {"role": "assistant", "content": "Hi"}]},
        {"model_a": "gpt-4", "model_b": "vicuna-13b", "winner": "model_a"},
        {"model_a": "gpt-4", "model_b": "vicuna-13b", "winner": "model_a"},  # an identical copy stays
    ]
    src = tmp_path / "clean_battle.json"
    src.write_text(json.dumps(records, indent=1), encoding="utf-8")
    store = VoteStore(tmp_path / "c.db")
    assert store.import_file(src) == (4, 0)
    assert store.records() == records
    row = [r for r in store.rows() if r["judge"] == "arena_user_2"][0]
    assert row["prompt"] == "你好" and row["source"] == "import"
    rows = leaderboard(Battles.from_records(store.records()), "bt")
    assert rows[0]["model"] == "gpt-4" and rows[0]["votes"] == 4


def test_bad_files_are_explained(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"model_a": "x", "model_b": "y", "winner": "model_a"}\n{"model_a": "x", "model_b": "y"}\n')
    with pytest.raises(LabError) as err:
        votefile.read(bad)
    assert err.value.key == "arena.bad_winner" and "2" in err.value.message("en")
    bad.write_text("{not json\n")
    with pytest.raises(LabError) as err:
        votefile.read(bad)
    assert err.value.key == "arena.bad_line"
    with pytest.raises(LabError):
        votefile.read(tmp_path / "missing.jsonl")
    notdb = tmp_path / "not.db"
    notdb.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(LabError) as err:
        VoteStore(notdb)
    assert err.value.key == "arena.bad_db"


def test_50_voters_100_votes_each_through_the_vote_path(tmp_path):
    store = VoteStore(tmp_path / "class.db")
    arena = Arena(store, pool=POOL)
    start = threading.Barrier(50)
    errors = []

    def voter(k: int):
        try:
            start.wait()
            for i in range(100):
                battle = finished_battle(arena, f"voter {k} prompt {i}", f"session-{k}")
                winner = ["model_a", "model_b", "tie", "tie (bothbad)"][(k + i) % 4]
                arena.vote(battle, winner)
                if i % 10 == 0:
                    arena.vote(battle, winner)  # a double click: must not add a row
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=voter, args=(k,)) for k in range(50)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert store.count() == 5000
    records = store.records()
    assert len({r["llmlab"]["vote_id"] for r in records}) == 5000
    prompts = {(r["llmlab"]["session"], r["conversation_a"][0]["content"]) for r in records}
    assert prompts == {(f"session-{k}", f"voter {k} prompt {i}") for k in range(50) for i in range(100)}
    assert store.stats()["voters"] == 50


def test_processes_share_one_db(tmp_path):
    """Two servers (or a server and a CLI import) writing the same file at once."""
    db = tmp_path / "shared.db"
    VoteStore(db)
    script = (
        "import sys\nfrom apps.arena.store import VoteStore, Vote\n"
        "s = VoteStore(sys.argv[1])\n"
        "for i in range(200): s.add(Vote('x', 'y', 'model_a', session=sys.argv[2], vote_id=f'{sys.argv[2]}-{i}'))\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, str(db), f"p{k}"], cwd=ROOT) for k in range(4)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    assert VoteStore(db).count() == 800


def test_synthetic_file_ratings_round_trip(tmp_path):
    records = synthetic({"a": 1100, "b": 1000, "c": 900}, 300, seed=2)
    path = tmp_path / "votes.jsonl"
    votefile.write(path, records)
    assert votefile.read(path) == records
    store = VoteStore(tmp_path / "s.db")
    assert store.add_records(records) == (300, 0)  # repeated identical lines are kept
    assert store.records() == records


def test_add_records_checks_before_writing(tmp_path):
    store = VoteStore(tmp_path / "v.db")
    with pytest.raises(LabError) as err:
        store.add_records([{"model_a": "x", "model_b": "y", "winner": "model_a"}, {"model_a": "x", "winner": "tie"}])
    assert err.value.key == "arena.bad_line" and store.count() == 0  # nothing half-imported
