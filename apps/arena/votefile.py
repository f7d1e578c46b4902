"""Vote files in Chatbot Arena's public battle format (JSONL, or the JSON list the Arena publishes).

One record per battle, as in lm-sys's `clean_battle_*.json` / `arena-human-preference` files:

    {"question_id": "...", "model_a": "x", "model_b": "y", "winner": "model_a",
     "judge": "arena_user_…", "conversation_a": [{"role": "user", "content": "…"},
     {"role": "assistant", "content": "…"}], "conversation_b": [...], "turn": 1, "anony": true,
     "language": "English", "tstamp": 1700000000.0, "llmlab": {...}}

`winner` is model_a | model_b | tie | tie (bothbad); every other field is optional and kept as is.
Our own votes add an `llmlab` object (vote id, session, settings of each contestant, source), so a
file we write and read back is the same file, byte for byte.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections import Counter
from pathlib import Path

from apps.arena.ratings import WINNERS
from apps.errors import LabError
from apps.userfiles import read_text


def dumps(record: dict) -> str:
    """The one serialisation we write (key order kept, UTF-8 text, no spaces after separators)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def read(path: str | Path) -> list[dict]:
    """Records from a JSONL file or a JSON list; checks the fields ratings need."""
    path = Path(path)
    if not path.is_file():
        raise LabError("arena.no_file", path=str(path))
    text = read_text(path)  # binary or non-UTF-8: a files.* LabError
    if text.lstrip().startswith("["):
        try:
            records = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LabError("arena.bad_line", line=exc.lineno, why=exc.msg) from exc
    else:
        records = []
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise LabError("arena.bad_line", line=lineno, why=exc.msg) from exc
    for i, rec in enumerate(records, 1):
        check(rec, i)
    return records


def check(rec, line: int) -> None:
    if not isinstance(rec, dict):
        raise LabError("arena.bad_line", line=line, why="not a JSON object")
    for key in ("model_a", "model_b"):
        if not isinstance(rec.get(key), str) or not rec[key]:
            raise LabError("arena.bad_line", line=line, why=f"'{key}' must be a non-empty string")
    if rec.get("winner") not in WINNERS:
        raise LabError("arena.bad_winner", line=line, winner=rec.get("winner"), choices=", ".join(WINNERS))


def write(path: str | Path, records) -> int:
    """Write JSONL atomically (temp file + rename). Returns the number of records."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    n = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for rec in records:
                out.write(dumps(rec) + "\n")
                n += 1
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return n


def vote_ids(records: list[dict]) -> list[str]:
    """A stable id per record, so importing a file twice adds nothing new.

    Our own records carry `llmlab.vote_id`; any other record gets a hash of its content, with the
    n-th identical copy inside one file told apart by n (the real Arena data has no exact copies,
    but hand-made files may)."""
    seen: Counter = Counter()
    ids = []
    for rec in records:
        own = (rec.get("llmlab") or {}).get("vote_id") if isinstance(rec.get("llmlab"), dict) else None
        if own:
            ids.append(str(own))
            continue
        digest = hashlib.sha256(dumps(rec).encode("utf-8")).hexdigest()[:32]
        seen[digest] += 1
        ids.append(f"import-{digest}-{seen[digest]}")
    return ids


def conversation(rec: dict, side: str) -> tuple[str, str]:
    """(first user prompt, first assistant reply) of conversation_a/b, '' where absent."""
    conv = rec.get(f"conversation_{side}") or []
    prompt = next((m.get("content", "") for m in conv if isinstance(m, dict) and m.get("role") == "user"), "")
    reply = next((m.get("content", "") for m in conv if isinstance(m, dict) and m.get("role") == "assistant"), "")
    return (prompt if isinstance(prompt, str) else json.dumps(prompt, ensure_ascii=False),
            reply if isinstance(reply, str) else json.dumps(reply, ensure_ascii=False))
