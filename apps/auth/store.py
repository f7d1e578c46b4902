"""The class database: classes, their members (students and the teacher) and the teacher's settings.

    store = ClassStore()                                  # $LLMLAB_CLASS_DB, else lab_home()/class.db
    info = store.create_class("NLP 2026")                 # {"name", "code", "teacher_password", ...}
    user = store.sign_in(info["code"], "Li Lei", "my own pw")   # first use: the student picks the password
    store.add_students("NLP 2026", ["Han Meimei"]); store.reset_password("NLP 2026", "Li Lei")
    store.settings("NLP 2026"); store.update_settings("NLP 2026", max_new_tokens=256)
    store.set_pool(class_id, [contestant.settings(), ...], by=teacher.id); store.pool(class_id)

Passwords are stored as salted scrypt hashes (`scrypt$n$r$p$salt$hash`), compared in constant time.
A member's `token_version` is part of every session cookie; resetting a password or removing a
student bumps it, so their old cookies stop working at once.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit

from apps.auth.users import TEACHER, STUDENT, User
from apps.errors import LabError
from apps.storage import SqliteStore, lab_home

SCHEMA = """
CREATE TABLE IF NOT EXISTS classes (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    name      TEXT NOT NULL UNIQUE,
    code      TEXT NOT NULL UNIQUE,              -- the join code students type
    created   REAL NOT NULL,
    settings  TEXT NOT NULL DEFAULT '{}'         -- JSON: quotas and allowlists (see DEFAULTS)
);
CREATE TABLE IF NOT EXISTS members (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    class_id      INTEGER NOT NULL REFERENCES classes(id),
    name          TEXT NOT NULL,                 -- display name as typed (cleaned)
    name_key      TEXT NOT NULL,                 -- casefolded: "Li Lei" and "li lei" are one student
    role          TEXT NOT NULL CHECK (role IN ('student', 'teacher')),
    pw_hash       TEXT NOT NULL DEFAULT '',      -- '' until the student picks one at first sign-in
    token_version INTEGER NOT NULL DEFAULT 0,
    removed       INTEGER NOT NULL DEFAULT 0,
    created       REAL NOT NULL,
    UNIQUE (class_id, name_key)
);
CREATE TABLE IF NOT EXISTS pools (
    class_id    INTEGER PRIMARY KEY REFERENCES classes(id),  -- the owner: the class (its teacher edits it)
    contestants TEXT NOT NULL,                   -- JSON list of apps.arena Contestant.settings()
    updated     REAL NOT NULL,
    updated_by  TEXT NOT NULL DEFAULT ''         -- the teacher's user id
);
"""
TEACHER_NAME = "teacher"  # the teacher signs in with the join code, this name and the teacher password
MIN_PASSWORD = 6
MAX_PASSWORD = 200
# n=2^14, r=8: 16 MiB and ~50 ms per check, the scrypt paper's interactive-login setting
SCRYPT = dict(n=2 ** 14, r=8, p=1)

# Quotas and allowlists a teacher sets per class; what a class gets until the teacher changes them.
DEFAULTS: dict = {
    "max_new_tokens": 512,        # per generation request
    "requests_per_minute": 30,    # generation requests per student per minute
    "queued_runs": 1,             # fine-tuning runs a student may have queued or running at once
    "train_steps": 200,           # max_steps of one fine-tuning run
    "upload_mb": 20,              # one uploaded file
    "open_join": True,            # a new display name may join with the code (else: roster only)
    "models": [],                 # model names/ids allowed on top of the registry
    "base_urls": [],              # provider base URLs allowed on top of the presets
}
INT_LIMITS = {"max_new_tokens": (1, 8192), "requests_per_minute": (1, 10_000), "queued_runs": (0, 100),
              "train_steps": (1, 100_000), "upload_mb": (1, 10_000)}


def default_db_path() -> Path:
    return Path(os.environ.get("LLMLAB_CLASS_DB") or lab_home() / "class.db").expanduser()


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, maxmem=64 * 2 ** 20, **SCRYPT)
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(digest) // 2, maxmem=64 * 2 ** 20)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


def clean_name(name: str | None) -> str:
    from curriculum.progress import clean_name as clean

    return clean(name)


def _check_new_password(password: str) -> None:
    if not (MIN_PASSWORD <= len(password or "") <= MAX_PASSWORD):
        raise LabError("auth.weak_password", min=MIN_PASSWORD)


def _check_url_shape(url: str) -> None:
    """An allowlisted base URL must be a full http(s) URL with a host (an ftp:// or bare host never matches)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LabError("security.url_bad", url=url)


def clean_settings(changes: dict) -> dict:
    """Validate settings a teacher sends (CLI or panel): known keys, ints in range, lists of strings."""
    out = {}
    for key, value in changes.items():
        if key not in DEFAULTS:
            raise LabError("auth.bad_setting", setting=key, keys=", ".join(DEFAULTS))
        if key in INT_LIMITS:
            lo, hi = INT_LIMITS[key]
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise LabError("auth.bad_setting_value", setting=key, lo=lo, hi=hi) from None
            if not lo <= value <= hi:
                raise LabError("auth.bad_setting_value", setting=key, lo=lo, hi=hi)
        elif key == "open_join":
            value = value if isinstance(value, bool) else str(value).strip().lower() in ("1", "true", "yes", "on")
        else:
            items = value.replace(",", "\n").splitlines() if isinstance(value, str) else list(value or [])
            value = sorted({str(v).strip() for v in items if str(v).strip()})
            if key == "base_urls":
                for url in value:
                    _check_url_shape(url)
        out[key] = value
    return out


class ClassStore(SqliteStore):
    SCHEMA = SCHEMA
    ERROR_KEY = "auth.bad_db"

    @classmethod
    def default_path(cls) -> Path:
        return default_db_path()

    # ---- classes ----
    def create_class(self, name: str) -> dict:
        """A new class with its join code and the teacher's password (shown once, stored hashed)."""
        name = clean_name(name)
        if not name:
            raise LabError("auth.need_class_name")
        code = "-".join(secrets.token_hex(2).upper() for _ in range(2))  # e.g. 7F3A-09C2
        password = secrets.token_urlsafe(12)
        now = time.time()
        try:
            with closing(self._connect()) as con:
                con.execute("BEGIN IMMEDIATE")
                cur = con.execute("INSERT INTO classes (name, code, created, settings) VALUES (?, ?, ?, ?)",
                                  (name, code, now, json.dumps(DEFAULTS)))
                con.execute("INSERT INTO members (class_id, name, name_key, role, pw_hash, created) VALUES (?, ?, ?, ?, ?, ?)",
                            (cur.lastrowid, TEACHER_NAME, TEACHER_NAME, TEACHER, hash_password(password), now))
                con.execute("COMMIT")
        except sqlite3.IntegrityError:
            raise LabError("auth.class_exists", name=name) from None
        return {"name": name, "code": code, "teacher_name": TEACHER_NAME, "teacher_password": password,
                "class_id": cur.lastrowid}

    def classes(self) -> list[dict]:
        with closing(self._connect()) as con:
            rows = con.execute("SELECT id, name, code, created FROM classes ORDER BY id").fetchall()
        return [{"class_id": r[0], "name": r[1], "code": r[2], "created": r[3]} for r in rows]

    def class_id(self, name: str | None = None) -> int:
        """The class named `name`; without a name, the only class (a server usually has one)."""
        rows = self.classes()
        if name:
            found = [r for r in rows if r["name"] == clean_name(name) or r["code"] == name.strip().upper()]
        else:
            found = rows if len(rows) == 1 else []
        if not found:
            raise LabError("auth.no_class", name=name or "", names=", ".join(r["name"] for r in rows) or "-")
        return found[0]["class_id"]

    def settings(self, class_id: int | None) -> dict:
        if class_id is None:
            return dict(DEFAULTS)
        with closing(self._connect()) as con:
            row = con.execute("SELECT settings FROM classes WHERE id = ?", (class_id,)).fetchone()
        return {**DEFAULTS, **json.loads(row[0] if row else "{}")}

    def update_settings(self, class_id: int, **changes) -> dict:
        changes = clean_settings(changes)
        with closing(self._connect()) as con:
            con.execute("BEGIN IMMEDIATE")
            row = con.execute("SELECT settings FROM classes WHERE id = ?", (class_id,)).fetchone()
            merged = {**DEFAULTS, **json.loads(row[0] if row else "{}"), **changes}
            con.execute("UPDATE classes SET settings = ? WHERE id = ?", (json.dumps(merged), class_id))
            con.execute("COMMIT")
        return merged

    # ---- the class's arena pool (the teacher's edit survives a restart) ----
    def pool(self, class_id: int) -> list[dict] | None:
        """The contestants (settings dicts) the teacher set for the class; None: never set."""
        with closing(self._connect()) as con:
            row = con.execute("SELECT contestants FROM pools WHERE class_id = ?", (class_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def set_pool(self, class_id: int, contestants: list[dict], by: str = "") -> None:
        with closing(self._connect()) as con:
            con.execute("INSERT INTO pools (class_id, contestants, updated, updated_by) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT(class_id) DO UPDATE SET contestants = excluded.contestants, "
                        "updated = excluded.updated, updated_by = excluded.updated_by",
                        (class_id, json.dumps(contestants, ensure_ascii=False), time.time(), by))

    # ---- members ----
    def _member(self, con, class_id: int, name: str):
        return con.execute("SELECT id, name, role, pw_hash, token_version, removed FROM members "
                           "WHERE class_id = ? AND name_key = ?", (class_id, clean_name(name).casefold())).fetchone()

    def user(self, member_id: int) -> tuple[User, int] | None:
        """(User, token_version) of a current member, None if unknown or removed."""
        with closing(self._connect()) as con:
            row = con.execute("SELECT id, class_id, name, role, token_version FROM members WHERE id = ? AND removed = 0",
                              (member_id,)).fetchone()
        if row is None:
            return None
        return User(id=User.make_id(row[1], row[0]), name=row[2], role=row[3], class_id=row[1]), row[4]

    def sign_in(self, code: str, name: str, password: str) -> tuple[User, int]:
        """Check the join code, the name and the password; a new name (open class) or a rostered
        student without a password sets it now. Every failure is the same message (no probing)."""
        name = clean_name(name)
        with closing(self._connect()) as con:
            cls = con.execute("SELECT id, settings FROM classes WHERE code = ?", ((code or "").strip().upper(),)).fetchone()
            if cls is None or not name or not password:
                raise LabError("auth.bad_sign_in")
            class_id, settings = cls[0], {**DEFAULTS, **json.loads(cls[1])}
            con.execute("BEGIN IMMEDIATE")
            row = self._member(con, class_id, name)
            if row is None or (row[5] and row[2] == STUDENT):
                if row is not None or not settings["open_join"]:
                    con.execute("ROLLBACK")
                    raise LabError("auth.bad_sign_in" if row is None else "auth.removed")
                _check_new_password(password)
                cur = con.execute("INSERT INTO members (class_id, name, name_key, role, pw_hash, created) "
                                  "VALUES (?, ?, ?, 'student', ?, ?)",
                                  (class_id, name, name.casefold(), hash_password(password), time.time()))
                member_id = cur.lastrowid
            elif not row[3]:  # rostered, or reset: the first sign-in picks the password
                _check_new_password(password)
                con.execute("UPDATE members SET pw_hash = ? WHERE id = ?", (hash_password(password), row[0]))
                member_id = row[0]
            elif check_password(password, row[3]):
                member_id = row[0]
            else:
                con.execute("ROLLBACK")
                raise LabError("auth.bad_sign_in")
            con.execute("COMMIT")
        return self.user(member_id)

    def roster(self, class_id: int) -> list[dict]:
        with closing(self._connect()) as con:
            rows = con.execute("SELECT id, name, role, pw_hash != '', created FROM members "
                               "WHERE class_id = ? AND removed = 0 ORDER BY role DESC, name_key", (class_id,)).fetchall()
        return [{"user_id": User.make_id(class_id, r[0]), "name": r[1], "role": r[2], "has_password": bool(r[3]),
                 "created": r[4]} for r in rows]

    def add_students(self, class_id: int, names: list[str]) -> dict:
        """Add names to the roster (each picks a password at first sign-in). Existing names are
        left alone; a removed one comes back with no password."""
        added, existing = [], []
        with closing(self._connect()) as con:
            con.execute("BEGIN IMMEDIATE")
            for raw in names:
                name = clean_name(raw)
                if not name:
                    continue
                if name.casefold() == TEACHER_NAME:
                    con.execute("ROLLBACK")
                    raise LabError("auth.reserved_name", name=name)
                row = self._member(con, class_id, name)
                if row is None:
                    con.execute("INSERT INTO members (class_id, name, name_key, role, created) VALUES (?, ?, ?, 'student', ?)",
                                (class_id, name, name.casefold(), time.time()))
                    added.append(name)
                elif row[5]:
                    con.execute("UPDATE members SET removed = 0, pw_hash = '', token_version = token_version + 1 "
                                "WHERE id = ?", (row[0],))
                    added.append(name)
                else:
                    existing.append(name)
            con.execute("COMMIT")
        return {"added": added, "existing": existing}

    def reset_password(self, class_id: int, name: str) -> str:
        """A new one-time password for the member (the teacher hands it over); old cookies die."""
        password = secrets.token_urlsafe(9)
        with closing(self._connect()) as con:
            con.execute("BEGIN IMMEDIATE")
            row = self._member(con, class_id, name)
            if row is None or row[5]:
                con.execute("ROLLBACK")
                raise LabError("auth.no_member", name=name)
            con.execute("UPDATE members SET pw_hash = ?, token_version = token_version + 1 WHERE id = ?",
                        (hash_password(password), row[0]))
            con.execute("COMMIT")
        return password

    def remove(self, class_id: int, name: str) -> None:
        """Mark removed (their runs, votes and progress stay, owned by the id); old cookies die."""
        with closing(self._connect()) as con:
            con.execute("BEGIN IMMEDIATE")
            row = self._member(con, class_id, name)
            if row is None or row[5] or row[2] == TEACHER:
                con.execute("ROLLBACK")
                raise LabError("auth.no_member", name=name)
            con.execute("UPDATE members SET removed = 1, token_version = token_version + 1 WHERE id = ?", (row[0],))
            con.execute("COMMIT")

    def names(self, class_id: int | None) -> dict[str, str]:
        """{user_id: display name} of the class (everyone if None): how the teacher sees owners."""
        sql, args = "SELECT class_id, id, name FROM members", ()
        if class_id is not None:
            sql, args = sql + " WHERE class_id = ?", (class_id,)
        with closing(self._connect()) as con:
            return {User.make_id(c, i): n for c, i, n in con.execute(sql, args).fetchall()}
