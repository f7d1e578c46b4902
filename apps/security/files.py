"""Which file paths an event handler may read: this user's own uploads, or the lab's shipped samples.

Gradio checks a `FileData.path` against its upload folder only when the app was `launch()`ed; the
lab is mounted with `mount_gradio_app` and never launched, so that check is skipped and a request
could name any file on the server. The shell therefore runs `check_payload` on the raw inputs of
every event before Gradio preprocesses them, and `UploadLedger` remembers which paths Gradio's
upload route handed to which owner. A path is accepted only if it is exactly one of the caller's
uploads (after resolving symlinks and `..`) or lies inside a shipped sample folder; URLs and
anything else are refused, whatever component the payload targets.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Iterable, Iterator

from apps.errors import LabError

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_ROOTS = (REPO_ROOT / "curriculum" / "data",)  # data the lab ships, readable by everyone


def _real(path: str | os.PathLike) -> str:
    return os.path.realpath(os.path.expanduser(str(path)))


class UploadLedger:
    """Paths the upload route created, per owner. Bounded: the oldest entries of an owner go first
    (Gradio deletes old uploads from its cache anyway)."""

    def __init__(self, per_owner: int = 2000):
        self.per_owner = per_owner
        self._paths: dict[str, OrderedDict[str, None]] = {}
        self._lock = threading.Lock()

    def add(self, owner: str, paths: Iterable[str]) -> None:
        with self._lock:
            mine = self._paths.setdefault(owner, OrderedDict())
            for path in paths:
                mine[_real(path)] = None
                mine.move_to_end(_real(path))
            while len(mine) > self.per_owner:
                mine.popitem(last=False)

    def owns(self, owner: str, path: str) -> bool:
        with self._lock:
            return _real(path) in self._paths.get(owner, ())


def is_sample(path: str) -> bool:
    real = Path(_real(path))
    return any(real == root or root in real.parents for root in SAMPLE_ROOTS)


def file_refs(value: Any) -> Iterator[str]:
    """Every file path named in a raw event payload: any dict carrying a string `path` (a FileData,
    with or without its `meta`), at any depth, in lists and dicts alike."""
    if isinstance(value, dict):
        if isinstance(value.get("path"), str):
            yield value["path"]
        for inner in value.values():
            yield from file_refs(inner)
    elif isinstance(value, (list, tuple)):
        for inner in value:
            yield from file_refs(inner)


def allowed(path: str, owner: str, ledger: UploadLedger) -> bool:
    if "://" in path or path.startswith("data:"):  # a URL would make the server fetch it
        return False
    return ledger.owns(owner, path) or is_sample(path)


def check_payload(inputs: list, owner: str, ledger: UploadLedger) -> None:
    """Raise LabError("security.file_refused") if any file named in `inputs` is not the owner's
    upload or a shipped sample. Called before any handler (or Gradio's own preprocessing) runs."""
    for path in file_refs(inputs):
        if not allowed(path, owner, ledger):
            raise LabError("security.file_refused", name=Path(path).name[:80])
