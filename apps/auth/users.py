"""Who is asking: the `User` every logic function that touches someone's things takes, and the one
rule of ownership (`may_access`).

    User.make_id(3, 12) == "c3-u12"      # member 12 of class 3; stored as the owner of runs, votes …
    may_access(user, "c3-u12")           # the owner, or the teacher of class 3, or the personal user

In personal mode there is one implicit user, LOCAL, who owns everything on the machine. A user id
is also a folder name (uploads, indexes), so it only ever holds [a-z0-9-].
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from apps.errors import LabError

STUDENT, TEACHER = "student", "teacher"
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


@dataclass(frozen=True)
class User:
    id: str                       # "local", "c3-u12", "hf-<name>": stored as the owner of everything
    name: str = ""                # display name
    role: str = STUDENT
    class_id: int | None = None   # None: personal mode (or a Spaces visitor)

    @staticmethod
    def make_id(class_id: int, member_id: int) -> str:
        return f"c{int(class_id)}-u{int(member_id)}"

    @property
    def is_teacher(self) -> bool:
        return self.role == TEACHER

    @property
    def folder(self) -> str:
        """The user's folder name under shared roots (runs/datasets/<folder>, indexes/<folder>)."""
        if not _ID.match(self.id):
            raise LabError("auth.not_signed_in")
        return self.id


LOCAL = User(id="local", name="", role=TEACHER, class_id=None)


def class_of(owner: str) -> int | None:
    m = re.match(r"^c(\d+)-u\d+$", owner or "")
    return int(m.group(1)) if m else None


def may_access(user: User | None, owner: str) -> bool:
    """The owner; the teacher of the owner's class; the personal-mode user (the machine's owner)."""
    if user is None:
        return False
    if user.id == owner:
        return True
    if not user.is_teacher:
        return False
    return user.class_id is None or class_of(owner) == user.class_id


def require(user: User | None, owner: str, key: str = "auth.not_yours", **params) -> None:
    """Raise LabError(key) unless `user` may reach something owned by `owner`."""
    if not may_access(user, owner):
        raise LabError(key, **params)


def require_teacher(user: User | None) -> None:
    if user is None or not user.is_teacher:
        raise LabError("auth.teacher_only")
