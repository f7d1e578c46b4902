"""Per-student limits the teacher sets for a class (apps.auth.store.DEFAULTS), checked before work.

    quotas = Quotas(auth)
    quotas.generation(user, max_new_tokens=256)   # tokens ≤ the class limit, requests a minute counted
    quotas.training(user, steps=40, active=2)     # steps ≤ limit, queued/running runs < limit
    quotas.upload(user, path)                     # file size ≤ upload_mb

Each refusal is a LabError with the limit in it, so the student reads why in their language. The
teacher (and the personal-mode user) is never limited.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from pathlib import Path

from apps.auth.users import User
from apps.errors import LabError

WINDOW_S = 60.0


class RateLimiter:
    """Sliding one-minute window per key; thread-safe. Memory: one deque of timestamps per key."""

    def __init__(self, window_s: float = WINDOW_S):
        self.window_s = window_s
        self._lock = threading.Lock()
        self._hits: dict[str, deque] = {}

    def admit(self, key: str, limit: int, now: float | None = None) -> float:
        """Count one request; 0.0 if admitted, else the seconds until one is allowed (not counted)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] >= self.window_s:
                hits.popleft()
            if len(hits) >= limit:
                return self.window_s - (now - hits[0])
            hits.append(now)
            return 0.0


class Quotas:
    def __init__(self, auth=None):
        self.auth = auth
        self.rate = RateLimiter()

    def settings(self, user: User) -> dict:
        from apps.auth.store import DEFAULTS

        return self.auth.settings(user) if self.auth is not None else dict(DEFAULTS)

    @staticmethod
    def exempt(user: User | None) -> bool:
        return user is None or user.is_teacher

    def generation(self, user: User | None, max_new_tokens: int | None = None) -> None:
        if self.exempt(user):
            return
        s = self.settings(user)
        if max_new_tokens is not None and int(max_new_tokens) > s["max_new_tokens"]:
            raise LabError("auth.quota.tokens", n=int(max_new_tokens), max=s["max_new_tokens"])
        wait = self.rate.admit(user.id, s["requests_per_minute"])
        if wait:
            raise LabError("auth.quota.rate", max=s["requests_per_minute"], wait=max(1, round(wait)))

    def training(self, user: User | None, steps: int, active: int) -> None:
        """`active`: this user's runs now queued or running."""
        if self.exempt(user):
            return
        s = self.settings(user)
        if int(steps) > s["train_steps"]:
            raise LabError("auth.quota.steps", n=int(steps), max=s["train_steps"])
        if active >= s["queued_runs"]:
            raise LabError("auth.quota.runs", n=active, max=s["queued_runs"])

    def upload(self, user: User | None, path: str | Path) -> None:
        if self.exempt(user):
            return
        limit_mb = self.settings(user)["upload_mb"]
        size = Path(path).stat().st_size
        if size > limit_mb * 2 ** 20:
            raise LabError("auth.quota.upload", mb=f"{size / 2 ** 20:.1f}", max=limit_mb)
