"""Preference pairs from the Arena's votes: each decided human vote becomes {prompt, chosen, rejected}.

    rows, counts = preferences(VoteStore(), user)          # the votes `user` may see, human only
    rows, counts = preferences(store, user, sources=("human", "judge"))
    export_jsonl(rows, "prefs.jsonl")                      # what `llmlab finetune --objective dpo|reward` reads

A vote for A (or B) makes one pair; a tie or a "both are bad" says nothing about which reply is
better, so it is left out and counted. Judge and imported votes are left out unless asked for
(they are not the class's own judgement). Who sees what follows apps.auth.users.may_access on the
voter id stored with each vote (a vote's `session` is the signed-in user's id): a student gets
their own votes, a teacher their class's, the personal-mode user everything. The user is always
the signed-in `User` object, never a name typed into a box.
"""
from __future__ import annotations

import json
from pathlib import Path

from apps.arena import votefile
from apps.auth.users import may_access
from apps.errors import LabError

HUMAN = ("human",)
SOURCES = ("human", "judge", "import")


def _pair(rec: dict) -> dict | None:
    """A decided vote → {"prompt", "chosen", "rejected"}; None for a tie or both-bad."""
    side = {"model_a": ("a", "b"), "model_b": ("b", "a")}.get(rec.get("winner"))
    if side is None:
        return None
    prompt, chosen = votefile.conversation(rec, side[0])
    _, rejected = votefile.conversation(rec, side[1])
    return {"prompt": prompt, "chosen": chosen, "rejected": rejected}


def preferences(store, user, sources: tuple[str, ...] = HUMAN) -> tuple[list[dict], dict]:
    """The preference rows of the votes `user` may see, oldest first, and the counts:
    {"votes": seen, "kept", "ties", "both_bad", "other_sources" (judge/import not asked for),
     "unusable" (an empty prompt or reply, or both replies the same), "sources": [...]}."""
    if user is None:
        raise LabError("auth.not_signed_in")
    unknown = [s for s in sources if s not in SOURCES]
    if unknown or not sources:
        raise LabError("align.bad_source", value=", ".join(unknown) or "''", choices=", ".join(SOURCES))
    rows: list[dict] = []
    counts = {"votes": 0, "kept": 0, "ties": 0, "both_bad": 0, "other_sources": 0, "unusable": 0,
              "sources": list(sources)}
    for source in sorted(store.stats()["by_source"]):  # per source: the column, not the record, is authoritative
        for rec in store.records(source):
            own = rec.get("llmlab") if isinstance(rec.get("llmlab"), dict) else {}
            if not may_access(user, str(own.get("session", ""))):
                continue
            counts["votes"] += 1
            if source not in sources:
                counts["other_sources"] += 1
                continue
            if rec.get("winner") == "tie":
                counts["ties"] += 1
                continue
            if rec.get("winner") == "tie (bothbad)":
                counts["both_bad"] += 1
                continue
            pair = _pair(rec)
            if not pair or not all(pair.values()) or pair["chosen"] == pair["rejected"]:
                counts["unusable"] += 1
                continue
            rows.append((rec.get("tstamp") or 0, pair))
    rows.sort(key=lambda item: item[0])
    counts["kept"] = len(rows)
    return [pair for _, pair in rows], counts


def export_jsonl(rows: list[dict], path: str | Path) -> Path:
    """Write the pairs as JSONL (one {"prompt", "chosen", "rejected"} object a line), atomically.
    apps.finetune.data.load(path, "dpo") reads it as it is."""
    from apps.finetune.config import write_atomic

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return path
