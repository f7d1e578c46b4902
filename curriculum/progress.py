"""Students' progress: every attempt at every exercise, in one SQLite file a whole class writes at once.

    store = ProgressStore()                  # $LLMLAB_PROGRESS_DB, else lab_home()/progress.db
    store.record(Attempt(exercise="playground.tokens_zh", stage="playground", answer="10", correct=True,
                         student="Li Lei", session="a1b2c3"))
    store.student_progress("Li Lei", "a1b2c3", ids)   # {"solved": [...], "attempts": {...}, ...}
    store.class_summary(ids)                          # per-exercise solve rates, per-student counts
    store.export("progress.csv")                      # or .jsonl; written atomically

A student is the name they type; without one, the anonymous id their browser keeps (the CLI uses
"cli"). Attempts are only ever added: nothing here deletes or updates a row, and `attempt_id` is
UNIQUE, so a retried or double-clicked Check is stored once (INSERT OR IGNORE). Every call opens its
own short connection in WAL mode with a busy timeout, so threads and processes can write together.
"""
from __future__ import annotations

import csv
import hmac
import json
import os
import re
import tempfile
import time
import unicodedata
import uuid
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from apps.errors import LabError
from apps.storage import SqliteStore, lab_home

SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    attempt_id  TEXT NOT NULL UNIQUE,
    tstamp      REAL NOT NULL,                 -- seconds since the epoch (UTC)
    student     TEXT NOT NULL DEFAULT '',      -- the typed name ('' = anonymous)
    session     TEXT NOT NULL DEFAULT '',      -- the browser's anonymous id, or 'cli'
    exercise    TEXT NOT NULL,
    stage       TEXT NOT NULL DEFAULT '',
    answer      TEXT NOT NULL,
    correct     INTEGER NOT NULL CHECK (correct IN (0, 1)),
    expected    TEXT NOT NULL DEFAULT '',      -- the computed answer at the time (for the teacher)
    lang        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS attempts_student ON attempts(student, session);
CREATE INDEX IF NOT EXISTS attempts_exercise ON attempts(exercise);
"""
COLUMNS = ("attempt_id", "tstamp", "student", "session", "exercise", "stage", "answer", "correct", "expected", "lang")
MAX_NAME = 40
MAX_ANSWER = 500


def default_db_path() -> Path:
    return Path(os.environ.get("LLMLAB_PROGRESS_DB") or lab_home() / "progress.db").expanduser()


def clean_name(name: str | None) -> str:
    """NFKC, control characters dropped, whitespace collapsed; at most MAX_NAME characters."""
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", name or ""))  # tabs, newlines → one space
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C").strip()  # zero-width, controls
    if len(text) > MAX_NAME:
        raise LabError("course.bad_name", max=MAX_NAME)
    return text


def who(student: str, session: str) -> str:
    """How a student appears in summaries: the name, or 'anon-' + the start of the anonymous id."""
    return student or f"anon-{(session or '?')[:8]}"


@dataclass
class Attempt:
    exercise: str
    answer: str
    correct: bool
    stage: str = ""
    student: str = ""
    session: str = ""
    expected: str = ""
    lang: str = ""
    attempt_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    tstamp: float = field(default_factory=time.time)

    def row(self) -> tuple:
        return (self.attempt_id, self.tstamp, clean_name(self.student), self.session[:64], self.exercise,
                self.stage, (self.answer or "")[:MAX_ANSWER], int(bool(self.correct)), self.expected[:MAX_ANSWER],
                self.lang)


class ProgressStore(SqliteStore):
    """Attempts in one SQLite file. Safe to share between threads and processes; append-only."""

    SCHEMA = SCHEMA
    ERROR_KEY = "course.bad_db"

    @classmethod
    def default_path(cls) -> Path:
        return default_db_path()

    def record(self, attempt: Attempt) -> Attempt:
        with closing(self._connect()) as con:
            con.execute(f"INSERT OR IGNORE INTO attempts ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                        attempt.row())
        return attempt

    def attempts(self, student: str | None = None, session: str | None = None, by_session: bool = False,
                 session_prefix: str | None = None) -> list[dict]:
        """Attempts oldest first; with a student (or, for '', an anonymous session) only theirs.
        by_session: only `session`'s (a signed-in user's id: the name is just how they are shown);
        session_prefix: only sessions starting so (a class's user ids, "c3-")."""
        sql, args = f"SELECT {', '.join(COLUMNS)} FROM attempts", []
        if by_session:
            sql += " WHERE session = ?"
            args.append(session or "")
        elif session_prefix is not None:
            sql += " WHERE substr(session, 1, ?) = ?"
            args += [len(session_prefix), session_prefix]
        elif student is not None:
            sql += " WHERE student = ?"
            args.append(clean_name(student))
            if not args[0]:
                sql += " AND session = ?"
                args.append(session or "")
        with closing(self._connect()) as con:
            rows = con.execute(sql + " ORDER BY id", args).fetchall()
        return [{**dict(zip(COLUMNS, r)), "correct": bool(r[7])} for r in rows]

    def count(self) -> int:
        with closing(self._connect()) as con:
            return int(con.execute("SELECT COUNT(*) FROM attempts").fetchone()[0])

    def student_progress(self, student: str, session: str, exercise_ids: list[str], by_session: bool = False) -> dict:
        """{"student", "solved": [ids in exercise order], "attempts": {id: n}, "n_solved", "n_total"}.
        by_session: `session` is a signed-in user's id, which alone says whose attempts they are."""
        mine = self.attempts(student, session, by_session=by_session)
        solved = {a["exercise"] for a in mine if a["correct"]}
        tries: dict[str, int] = {}
        for a in mine:
            tries[a["exercise"]] = tries.get(a["exercise"], 0) + 1
        return {"student": who(clean_name(student), session), "solved": [i for i in exercise_ids if i in solved],
                "attempts": tries, "n_solved": len(solved & set(exercise_ids)), "n_total": len(exercise_ids)}

    def class_summary(self, exercise_ids: list[str], session_prefix: str | None = None) -> dict:
        """exercises: [{exercise, students (who tried), solved (students), solve_rate, attempts}] in the
        given order (others after); students: [{student, attempts, solved, last}] most solved first.
        session_prefix: one class only (its user ids start so, e.g. "c3-")."""
        rows = self.attempts(session_prefix=session_prefix)
        per_ex: dict[str, dict] = {i: {"tried": set(), "solved": set(), "attempts": 0} for i in exercise_ids}
        per_student: dict[str, dict] = {}
        for a in rows:
            key = who(a["student"], a["session"])
            ex = per_ex.setdefault(a["exercise"], {"tried": set(), "solved": set(), "attempts": 0})
            ex["tried"].add(key)
            ex["attempts"] += 1
            st = per_student.setdefault(key, {"student": key, "attempts": 0, "solved": set(), "last": 0.0})
            st["attempts"] += 1
            st["last"] = max(st["last"], a["tstamp"])
            if a["correct"]:
                ex["solved"].add(key)
                st["solved"].add(a["exercise"])
        exercises = [{"exercise": i, "students": len(v["tried"]), "solved": len(v["solved"]),
                      "solve_rate": round(len(v["solved"]) / len(v["tried"]), 4) if v["tried"] else 0.0,
                      "attempts": v["attempts"]} for i, v in per_ex.items()]
        students = sorted(({**s, "solved": len(s["solved"])} for s in per_student.values()),
                          key=lambda s: (-s["solved"], s["student"]))
        return {"n_students": len(per_student), "n_attempts": len(rows), "exercises": exercises, "students": students}

    def export(self, path: str | Path, fmt: str | None = None, session_prefix: str | None = None) -> Path:
        """Every attempt (of one class with session_prefix) to CSV or JSONL (by suffix unless fmt),
        atomically: temp file + rename."""
        path = Path(path).expanduser()
        fmt = (fmt or path.suffix.lstrip(".") or "csv").lower()
        if fmt not in ("csv", "jsonl"):
            raise LabError("course.bad_export", name=str(path))
        rows = self.attempts(session_prefix=session_prefix)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
                if fmt == "csv":
                    writer = csv.DictWriter(out, fieldnames=list(COLUMNS))
                    writer.writeheader()
                    # spreadsheets show times, not epoch seconds: ISO 8601 in the server's local zone
                    writer.writerows({**r, "correct": int(r["correct"]), "tstamp": iso_local(r["tstamp"])} for r in rows)
                else:
                    for r in rows:
                        out.write(json.dumps(r, ensure_ascii=False) + "\n")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path


def iso_local(epoch: float | None) -> str:
    """1764781200.5 → '2025-12-03T17:00:00+00:00' (local time, with its offset); '' for none."""
    if epoch in (None, ""):
        return ""
    return datetime.fromtimestamp(float(epoch)).astimezone().isoformat(timespec="seconds")


def teacher_ok(given: str | None) -> bool:
    """The teacher panel is open unless $LLMLAB_TEACHER_PASSWORD is set; then it needs that password."""
    password = os.environ.get("LLMLAB_TEACHER_PASSWORD") or ""
    return not password or hmac.compare_digest((given or "").encode(), password.encode())
