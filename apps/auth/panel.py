"""The teacher's panel, as plain functions: roster, one student's work, class settings, exports.

Every function takes the signed-in `user` and refuses anyone but a classroom teacher, who only
ever sees their own class (the class id comes from the user, never from the request).

    roster(auth, user)                       # [{"user_id", "name", "role", "has_password", ...}]
    add_from_csv(auth, user, "names.csv")    # {"added": [...], "existing": [...]}
    reset_password(auth, user, "Li Lei")     # a one-time password to hand over
    student_work(auth, user, "Li Lei", runs_root)   # progress, runs, votes of one student
    update_settings(auth, user, {"max_new_tokens": 256})
"""
from __future__ import annotations

from pathlib import Path

from apps.auth.users import User, require_teacher
from apps.errors import LabError


def _class(auth, user: User) -> int:
    require_teacher(user)
    if auth is None or auth.store is None or user.class_id is None:
        raise LabError("auth.not_classroom")
    return user.class_id


def roster(auth, user: User) -> list[dict]:
    return auth.store.roster(_class(auth, user))


def add_from_csv(auth, user: User, path: str | Path) -> dict:
    from apps.auth.cli import names_from_csv

    class_id = _class(auth, user)
    if Path(path).stat().st_size > 1_000_000:
        raise LabError("auth.quota.upload", mb=f"{Path(path).stat().st_size / 2 ** 20:.1f}", max=1)
    return auth.store.add_students(class_id, names_from_csv(path))


def add_names(auth, user: User, names: list[str]) -> dict:
    return auth.store.add_students(_class(auth, user), names)


def reset_password(auth, user: User, name: str) -> str:
    return auth.store.reset_password(_class(auth, user), name)


def remove(auth, user: User, name: str) -> None:
    auth.store.remove(_class(auth, user), name)


def settings(auth, user: User) -> dict:
    return auth.store.settings(_class(auth, user))


def update_settings(auth, user: User, changes: dict) -> dict:
    return auth.store.update_settings(_class(auth, user), **changes)


def member_id(auth, user: User, name: str) -> str:
    class_id = _class(auth, user)
    for row in auth.store.roster(class_id):
        if row["name"].casefold() == (name or "").strip().casefold():
            return row["user_id"]
    raise LabError("auth.no_member", name=name)


def student_work(auth, user: User, name: str, runs_root: Path | None = None, vote_store=None,
                 progress_store=None) -> dict:
    """{"user_id", "name", "progress": student_progress, "runs": [...], "votes": n} of one student."""
    from apps.finetune import runs
    from curriculum.exercises import ids
    from curriculum.progress import ProgressStore

    uid = member_id(auth, user, name)
    progress = (progress_store or ProgressStore()).student_progress(name, uid, ids(), by_session=True)
    their_runs = [{k: r[k] for k in ("run_id", "state", "label", "model", "method", "max_steps", "created")}
                  for r in runs.list_runs(runs_root, user) if r["owner"] == uid]
    votes = 0
    if vote_store is None:
        from apps.arena.store import VoteStore

        vote_store = VoteStore()
    votes = sum(1 for r in vote_store.records("human") if (r.get("llmlab") or {}).get("session") == uid)
    return {"user_id": uid, "name": name, "progress": progress, "runs": their_runs, "votes": votes}
