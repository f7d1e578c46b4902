"""Checks on the files and folders a user names (CLI flags, sample paths): readable UTF-8 text in,
writable files and folders out. Each failure is a LabError with a zh/en message, raised before any
expensive work, instead of a UnicodeDecodeError or IsADirectoryError traceback.

    text = read_text("votes.jsonl")            # str; refuses missing, folder, binary, non-UTF-8
    check_writable_file("out/votes.jsonl")     # the target is not a folder, its parent can be made and written
    check_output_folder("runs/idx")            # not an existing file, its parent can be made and written
"""
from __future__ import annotations

import os
from pathlib import Path

from apps.errors import LabError

SNIFF_BYTES = 8192  # a NUL byte in the first 8 KB: binary (the heuristic git and grep use)


def read_text(path: str | os.PathLike) -> str:
    """The whole file as text (UTF-8, a BOM dropped). Raises files.* LabErrors."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise LabError("files.is_folder", path=str(path))
    if not path.is_file():
        raise LabError("files.missing", path=str(path))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LabError("files.unreadable", path=str(path), why=exc.strerror or type(exc).__name__) from None
    if b"\x00" in data[:SNIFF_BYTES]:
        raise LabError("files.binary", path=str(path))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LabError("files.not_utf8", path=str(path), offset=exc.start) from None


def _check_parent(path: Path) -> None:
    """The nearest existing ancestor must be a folder we may write in (missing folders get made)."""
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise LabError("files.parent_not_folder", path=str(path), parent=str(parent))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise LabError("files.not_writable", path=str(path), parent=str(parent))


def check_writable_file(path: str | os.PathLike) -> Path:
    """A file we are about to write (atomically, replacing it): not a folder, parent writable."""
    path = Path(path).expanduser().absolute()
    if path.is_dir():
        raise LabError("files.is_folder", path=str(path))
    _check_parent(path)
    return path


def check_output_folder(path: str | os.PathLike) -> Path:
    """A folder we are about to create or fill: not an existing file, parent writable."""
    path = Path(path).expanduser().absolute()
    if path.exists() and not path.is_dir():
        raise LabError("files.not_folder", path=str(path))
    _check_parent(path)
    return path
