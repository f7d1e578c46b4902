"""One SQLite file in WAL mode, shared safely by threads and processes: the base of the lab's stores
(arena votes, course progress). Subclasses set SCHEMA, ERROR_KEY and default_path()."""
from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

from apps.errors import LabError


def lab_home() -> Path:
    """The lab's own folder ($LLMLAB_HOME, else ~/.cache/llmlab). Here, not in apps.models: the stores
    (votes, users, progress) must open without importing torch (a CLI call, a vote: ~3 s less)."""
    home = Path(os.environ.get("LLMLAB_HOME", Path.home() / ".cache" / "llmlab")).expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return home


class SqliteStore:
    SCHEMA = ""  # CREATE TABLE IF NOT EXISTS … run at open
    ERROR_KEY = ""  # i18n key of "this file is not a usable database" (params: path, why)

    @classmethod
    def default_path(cls) -> Path:
        raise NotImplementedError

    def __init__(self, path: str | Path | None = None, timeout_s: float = 60.0):
        self.path = Path(path).expanduser() if path else self.default_path()
        self.timeout_s = timeout_s
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with closing(self._connect()) as con:
                con.execute("PRAGMA journal_mode=WAL")  # persistent: stored in the file itself
                con.executescript(self.SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise LabError(self.ERROR_KEY, path=str(self.path), why=str(exc)) from exc

    def _connect(self) -> sqlite3.Connection:
        # Autocommit mode; multi-statement writes use BEGIN IMMEDIATE, so concurrent writers queue on
        # the busy timeout instead of deadlocking when a read transaction tries to upgrade.
        con = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None)
        con.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across app crashes
        return con
