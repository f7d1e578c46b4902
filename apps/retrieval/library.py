"""Each user's RAG index, kept on disk so a server restart keeps it, and nobody else's reachable.

    library = Library()                                 # $LLMLAB_INDEXES, else lab_home()/indexes
    library.save(user, index, demo=True, demo_lang="zh")  # → indexes/<user.folder>/current/
    entry = library.current(user)                        # {"index": RagIndex, "demo", "demo_lang"} or None

The path comes only from the signed-in user's id (apps.auth.User.folder), never from a request.
Loaded indexes are kept in a small LRU (an explicit shared object with a lock), so a question does
not reload FAISS from disk; a newer save on disk (another server process) is picked up by mtime.
"""
from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from pathlib import Path

from apps.storage import lab_home

KEEP_LOADED = 32  # a class of 30 asking questions at once, each with a small index


def indexes_root() -> Path:
    return Path(os.environ.get("LLMLAB_INDEXES") or lab_home() / "indexes").expanduser()


class Library:
    def __init__(self, root: str | Path | None = None):
        self.root = Path(root).expanduser() if root else indexes_root()
        self._lock = threading.Lock()
        self._loaded: OrderedDict[str, tuple[float, dict]] = OrderedDict()

    def folder(self, user) -> Path:
        return self.root / user.folder / "current"

    def save(self, user, index, **info) -> Path:
        folder = index.save(self.folder(user))
        (folder / "lab.json").write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
        with self._lock:
            self._loaded[user.id] = ((folder / "meta.json").stat().st_mtime, {"index": index, **info})
            self._trim()
        return folder

    def current(self, user) -> dict | None:
        from rag.store import RagIndex

        folder = self.folder(user)
        meta = folder / "meta.json"
        if not meta.exists():
            return None
        mtime = meta.stat().st_mtime
        with self._lock:
            hit = self._loaded.get(user.id)
            if hit and hit[0] == mtime:
                self._loaded.move_to_end(user.id)
                return hit[1]
        info_path = folder / "lab.json"
        info = json.loads(info_path.read_text(encoding="utf-8")) if info_path.exists() else {}
        entry = {"index": RagIndex.load(folder), **info}
        with self._lock:
            self._loaded[user.id] = (mtime, entry)
            self._trim()
        return entry

    def _trim(self) -> None:
        while len(self._loaded) > KEEP_LOADED:
            self._loaded.popitem(last=False)
