"""The arena's votes in SQLite (WAL): one shared file a whole classroom votes into at once.

    store = VoteStore()                      # $LLMLAB_ARENA_DB, else lab_home()/arena.db
    store.add(Vote(vote_id=..., model_a=..., model_b=..., winner="model_a", prompt=..., ...))
    store.records()                          # Chatbot Arena battle dicts, oldest first
    store.import_file("battles.jsonl"); store.export_file("out.jsonl")

Each vote row keeps the prompt, both replies, both contestants with their settings (JSON), the
vote, an anonymous session id, the time, and the vote as an Arena battle record (so export gives
back exactly what was imported). `vote_id` is UNIQUE: a retried or double-clicked vote is stored
once (INSERT OR IGNORE). Every call opens its own short connection with a busy timeout, so
threads and processes can write at the same time; WAL lets readers go on while one writes.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
import uuid
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from apps.arena import votefile
from apps.arena.ratings import WINNERS
from apps.errors import LabError
from apps.storage import SqliteStore, lab_home

SCHEMA = """
CREATE TABLE IF NOT EXISTS votes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    vote_id     TEXT NOT NULL UNIQUE,
    tstamp      REAL NOT NULL,
    session     TEXT NOT NULL DEFAULT '',
    mode        TEXT NOT NULL DEFAULT 'anony',   -- anony | named | judge | import
    source      TEXT NOT NULL DEFAULT 'human',   -- human | judge | import
    model_a     TEXT NOT NULL,
    model_b     TEXT NOT NULL,
    settings_a  TEXT NOT NULL DEFAULT '{}',      -- JSON: the contestant (model, adapter, decoding …)
    settings_b  TEXT NOT NULL DEFAULT '{}',
    prompt      TEXT NOT NULL DEFAULT '',
    response_a  TEXT NOT NULL DEFAULT '',
    response_b  TEXT NOT NULL DEFAULT '',
    winner      TEXT NOT NULL CHECK (winner IN ('model_a', 'model_b', 'tie', 'tie (bothbad)')),
    judge       TEXT NOT NULL DEFAULT '',
    record      TEXT NOT NULL                    -- the vote as a Chatbot Arena battle (JSON)
);
CREATE INDEX IF NOT EXISTS votes_source ON votes(source);
"""


def default_db_path() -> Path:
    return Path(os.environ.get("LLMLAB_ARENA_DB") or lab_home() / "arena.db").expanduser()


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass
class Vote:
    """One vote. settings_*: the contestant as a JSON-able dict (see contestants.Contestant.settings)."""

    model_a: str
    model_b: str
    winner: str
    prompt: str = ""
    response_a: str = ""
    response_b: str = ""
    settings_a: dict = field(default_factory=dict)
    settings_b: dict = field(default_factory=dict)
    session: str = ""
    mode: str = "anony"
    source: str = "human"
    judge: str = ""
    vote_id: str = field(default_factory=new_id)
    tstamp: float = field(default_factory=time.time)

    def record(self) -> dict:
        """The vote as a Chatbot Arena battle record (our extras under `llmlab`)."""
        def conv(reply):
            return [{"role": "user", "content": self.prompt}, {"role": "assistant", "content": reply}]

        return {
            "question_id": self.vote_id, "model_a": self.model_a, "model_b": self.model_b,
            "winner": self.winner, "judge": self.judge or f"arena_user_{self.session}",
            "conversation_a": conv(self.response_a), "conversation_b": conv(self.response_b),
            "turn": 1, "anony": self.mode == "anony", "tstamp": self.tstamp,
            "llmlab": {"vote_id": self.vote_id, "session": self.session, "mode": self.mode,
                       "source": self.source, "settings_a": self.settings_a, "settings_b": self.settings_b},
        }


def public_record(rec: dict) -> dict:
    """The record as it may leave the lab: the voter's session/user id removed, and the judge field
    "arena_user_<id>" replaced by a one-way pseudonym (votes of one voter still group together)."""
    own = rec.get("llmlab")
    if not isinstance(own, dict) or "session" not in own:
        return rec
    own = {k: v for k, v in own.items() if k != "session"}
    out = {**rec, "llmlab": own}
    session = str(rec["llmlab"]["session"])
    if session and rec.get("judge") == f"arena_user_{session}":
        out["judge"] = "arena_user_" + hashlib.sha256(session.encode()).hexdigest()[:12]
    return out


class VoteStore(SqliteStore):
    """Votes in one SQLite file. Safe to share between threads and processes."""

    SCHEMA = SCHEMA
    ERROR_KEY = "arena.bad_db"

    @classmethod
    def default_path(cls) -> Path:
        return default_db_path()

    def _insert(self, con, rows: list[tuple]) -> int:
        before = con.total_changes
        con.executemany(
            "INSERT OR IGNORE INTO votes (vote_id, tstamp, session, mode, source, model_a, model_b, settings_a, "
            "settings_b, prompt, response_a, response_b, winner, judge, record) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return con.total_changes - before

    def _write(self, rows: list[tuple]) -> int:
        with closing(self._connect()) as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                added = self._insert(con, rows)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return added

    @staticmethod
    def _row(v: Vote, record: dict | None = None) -> tuple:
        if v.winner not in WINNERS:
            raise LabError("arena.bad_winner", line=1, winner=v.winner, choices=", ".join(WINNERS))
        rec = record if record is not None else v.record()
        return (v.vote_id, v.tstamp, v.session, v.mode, v.source, v.model_a, v.model_b,
                json.dumps(v.settings_a, ensure_ascii=False, sort_keys=True),
                json.dumps(v.settings_b, ensure_ascii=False, sort_keys=True),
                v.prompt, v.response_a, v.response_b, v.winner, v.judge, votefile.dumps(rec))

    def add(self, vote: Vote) -> bool:
        """Store one vote; False when this vote_id is already stored (a retry), True otherwise."""
        return self._write([self._row(vote)]) == 1

    def add_records(self, records: list[dict], source: str = "import") -> tuple[int, int]:
        """Store Arena battle records in one transaction. Returns (added, already there)."""
        for line, rec in enumerate(records, 1):
            votefile.check(rec, line)
        rows = []
        for rec, vid in zip(records, votefile.vote_ids(records)):
            own = rec.get("llmlab") if isinstance(rec.get("llmlab"), dict) else {}
            prompt, reply_a = votefile.conversation(rec, "a")
            _, reply_b = votefile.conversation(rec, "b")
            tstamp = rec.get("tstamp")
            vote = Vote(
                model_a=rec["model_a"], model_b=rec["model_b"], winner=rec["winner"], prompt=prompt,
                response_a=reply_a, response_b=reply_b, settings_a=own.get("settings_a") or {},
                settings_b=own.get("settings_b") or {}, session=str(own.get("session", "")),
                mode=str(own.get("mode", "import")), source=str(own.get("source", source)),
                judge=str(rec.get("judge", "")), vote_id=vid,
                tstamp=float(tstamp) if isinstance(tstamp, (int, float)) else 0.0)
            rows.append(self._row(vote, rec))
        added = self._write(rows) if rows else 0
        return added, len(rows) - added

    def import_file(self, path) -> tuple[int, int]:
        return self.add_records(votefile.read(path))

    def records(self, source: str | None = None) -> list[dict]:
        """Every vote as an Arena battle record, in the order stored; `source` filters human/judge/import."""
        query, args = "SELECT record FROM votes", ()
        if source:
            query, args = query + " WHERE source = ?", (source,)
        with closing(self._connect()) as con:
            return [json.loads(r[0]) for r in con.execute(query + " ORDER BY id", args)]

    def export_file(self, path, source: str | None = None) -> int:
        """Write the votes as Arena records without the voter's id (see `public_record`)."""
        return votefile.write(path, [public_record(r) for r in self.records(source)])

    def rows(self, limit: int = 50, session: str | None = None) -> list[dict]:
        """The latest votes as plain dicts (newest first), for a table on screen; `session`: only
        the votes of that voter (a student sees their own, a teacher everyone's)."""
        where, args = ("WHERE session = ? ", (session,)) if session is not None else ("", ())
        with closing(self._connect()) as con:
            con.row_factory = sqlite3.Row
            cur = con.execute("SELECT vote_id, tstamp, session, mode, source, model_a, model_b, winner, judge, "
                              f"prompt FROM votes {where}ORDER BY id DESC LIMIT ?", (*args, limit))
            return [dict(r) for r in cur]

    def count(self, source: str | None = None) -> int:
        with closing(self._connect()) as con:
            if source:
                return con.execute("SELECT COUNT(*) FROM votes WHERE source = ?", (source,)).fetchone()[0]
            return con.execute("SELECT COUNT(*) FROM votes").fetchone()[0]

    def stats(self) -> dict:
        with closing(self._connect()) as con:
            by_source = dict(con.execute("SELECT source, COUNT(*) FROM votes GROUP BY source").fetchall())
            sessions = con.execute("SELECT COUNT(DISTINCT session) FROM votes WHERE source='human'").fetchone()[0]
        return {"votes": sum(by_source.values()), "by_source": by_source, "voters": sessions, "path": str(self.path)}


