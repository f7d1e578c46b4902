"""Signed session cookies: `<payload>.<HMAC-SHA256>` with a server secret kept in LLMLAB_HOME.

    secret = server_secret()                       # lab_home()/session.key, 32 random bytes, mode 0600
    cookie = sign({"m": 12, "v": 0}, secret)       # payload = base64url(JSON) + expiry
    verify(cookie, secret)                         # the payload, or None (tampered, expired, garbage)

The payload is not secret (it names a member id and a token version), only unforgeable. Nothing
the browser sends is trusted without this check.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from pathlib import Path

from apps.storage import lab_home

COOKIE = "llmlab_session"
MAX_AGE_S = 14 * 24 * 3600  # two weeks: a course's sessions without signing in every lesson


def server_secret(path: Path | None = None) -> bytes:
    """Read the secret, creating it once (O_EXCL, 0600) so two processes starting at once agree."""
    path = Path(path) if path else lab_home() / "session.key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # the other process may be writing it right now
            data = path.read_bytes()
            if len(data) >= 32:
                return data
            time.sleep(0.02)
        raise
    with os.fdopen(fd, "wb") as out:
        out.write(secrets.token_bytes(32))
    return path.read_bytes()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(payload: dict, secret: bytes, max_age_s: int = MAX_AGE_S, now: float | None = None) -> str:
    body = _b64(json.dumps({**payload, "exp": int((now or time.time()) + max_age_s)}, separators=(",", ":")).encode())
    mac = hmac.new(secret, body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def verify(cookie: str | None, secret: bytes, now: float | None = None) -> dict | None:
    if not cookie or len(cookie) > 4096 or cookie.count(".") != 1:
        return None
    body, mac = cookie.split(".")
    want = hmac.new(secret, body.encode(), hashlib.sha256).digest()
    try:
        # canonical base64 only: the last character's unused bits must not give a second valid cookie
        if _b64(_unb64(mac)) != mac or not hmac.compare_digest(_unb64(mac), want):
            return None
        payload = json.loads(_unb64(body))
    except (ValueError, TypeError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int) or payload["exp"] < (now or time.time()):
        return None
    return payload
