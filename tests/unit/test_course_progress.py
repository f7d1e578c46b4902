"""The progress database: append-only attempts, many writers at once, summaries and exports."""
import csv
import json
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from apps.errors import LabError
from curriculum.progress import Attempt, ProgressStore, clean_name, default_db_path, teacher_ok

IDS = ["playground.a", "playground.b", "rag.c"]


def test_default_path_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMLAB_PROGRESS_DB", str(tmp_path / "x" / "p.db"))
    assert default_db_path() == tmp_path / "x" / "p.db"
    store = ProgressStore()
    assert store.path.exists()
    with sqlite3.connect(store.path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_student_progress_and_class_summary(tmp_path):
    store = ProgressStore(tmp_path / "p.db")
    rec = [("Li Lei", "s1", "playground.a", False), ("Li Lei", "s1", "playground.a", True),
           ("Li  Lei ", "s9", "rag.c", True),  # same typed name from another browser
           ("", "s2", "playground.a", True), ("", "s3", "playground.b", False), ("Han Meimei", "s4", "rag.c", False)]
    for name, session, ex, ok in rec:
        store.record(Attempt(exercise=ex, stage=ex.split(".")[0], answer="x", correct=ok, student=name, session=session))
    li = store.student_progress("Li Lei", "whatever", IDS)
    assert li["solved"] == ["playground.a", "rag.c"] and li["n_solved"] == 2 and li["n_total"] == 3
    assert li["attempts"] == {"playground.a": 2, "rag.c": 1}
    anon = store.student_progress("", "s2", IDS)
    assert anon["solved"] == ["playground.a"] and anon["student"] == "anon-s2"
    assert store.student_progress("", "s-new", IDS)["n_solved"] == 0

    summary = store.class_summary(IDS)
    assert summary["n_students"] == 4 and summary["n_attempts"] == 6
    rows = {r["exercise"]: r for r in summary["exercises"]}
    assert [r["exercise"] for r in summary["exercises"]] == IDS
    assert rows["playground.a"] == {"exercise": "playground.a", "students": 2, "solved": 2, "solve_rate": 1.0, "attempts": 3}
    assert rows["rag.c"]["students"] == 2 and rows["rag.c"]["solve_rate"] == 0.5
    assert rows["playground.b"]["solve_rate"] == 0.0
    assert summary["students"][0]["student"] == "Li Lei" and summary["students"][0]["solved"] == 2


def test_a_retried_attempt_is_stored_once(tmp_path):
    store = ProgressStore(tmp_path / "p.db")
    a = Attempt(exercise="rag.c", answer="1", correct=True, student="x")
    store.record(a)
    store.record(a)
    assert store.count() == 1


def test_many_threads_lose_nothing(tmp_path):
    store = ProgressStore(tmp_path / "p.db", timeout_s=120)
    n_threads, per_thread = 24, 40
    errors = []

    def student(i):
        try:
            for j in range(per_thread):
                store.record(Attempt(exercise=IDS[j % 3], answer=str(j), correct=j % 2 == 0,
                                     student=f"student {i}", session=f"s{i}"))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=student, args=(i,)) for i in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert store.count() == n_threads * per_thread
    summary = store.class_summary(IDS)
    assert summary["n_students"] == n_threads
    assert all(s["attempts"] == per_thread for s in summary["students"])


def test_two_processes_write_together(tmp_path):
    db = tmp_path / "p.db"
    ProgressStore(db)
    code = ("import sys; from curriculum.progress import Attempt, ProgressStore\n"
            "s = ProgressStore(sys.argv[1])\n"
            "for j in range(100): s.record(Attempt(exercise='rag.c', answer=str(j), correct=True, student=sys.argv[2]))\n")
    root = Path(__file__).resolve().parents[2]
    procs = [subprocess.Popen([sys.executable, "-c", code, str(db), f"p{i}"], cwd=root) for i in range(3)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    assert ProgressStore(db).count() == 300


def test_exports_round_trip_and_leave_no_temp_files(tmp_path):
    store = ProgressStore(tmp_path / "p.db")
    store.record(Attempt(exercise="rag.c", answer="李雷, \"quoted\"\nline", correct=True, student="李雷", expected="0.95"))
    store.record(Attempt(exercise="playground.a", answer="7", correct=False, session="abc"))
    out = tmp_path / "out"
    rows = list(csv.DictReader(open(store.export(out / "p.csv"), encoding="utf-8", newline="")))
    assert [r["student"] for r in rows] == ["李雷", ""] and rows[0]["answer"] == "李雷, \"quoted\"\nline"
    assert rows[0]["correct"] == "1" and rows[1]["correct"] == "0"
    assert abs(datetime.fromisoformat(rows[0]["tstamp"]).timestamp() - time.time()) < 600  # ISO local, not epoch
    lines = [json.loads(x) for x in (store.export(out / "p.jsonl")).read_text(encoding="utf-8").splitlines()]
    assert lines[1]["session"] == "abc" and lines[1]["correct"] is False
    assert sorted(p.name for p in out.iterdir()) == ["p.csv", "p.jsonl"]
    with pytest.raises(LabError):
        store.export(out / "p.xlsx")
    assert store.count() == 2  # exporting never touches the attempts


def test_names_and_teacher_password(monkeypatch):
    assert clean_name("  Li\tLei\u200b ") == "Li Lei"
    assert clean_name("Ｌｉ") == "Li"
    with pytest.raises(LabError):
        clean_name("x" * 41)
    monkeypatch.delenv("LLMLAB_TEACHER_PASSWORD", raising=False)
    assert teacher_ok(None)
    monkeypatch.setenv("LLMLAB_TEACHER_PASSWORD", "s3cret")
    assert teacher_ok("s3cret") and not teacher_ok("") and not teacher_ok("S3CRET")


def test_the_code_never_deletes():
    source = (Path(__file__).resolve().parents[2] / "curriculum" / "progress.py").read_text()
    assert not any(word in source.upper() for word in ("DELETE ", "DROP ", "UPDATE ATTEMPTS"))
