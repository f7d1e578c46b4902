"""The API key on the Gradio API: when `LLMLAB_API_KEY` is set, every `/gradio_api/*` request (each
event handler, the upload route, the queue) needs the key or a page cookie, like `/v1` needs the key.

How a browser gets in (personal mode, Jupyter-style): open `http://HOST:PORT/?key=KEY` once. The
server answers with a redirect to `/` that sets `llmlab_page`, an HttpOnly cookie signed with the
key (HMAC-SHA256 of a random nonce), so the key leaves the address bar and every later request of
the page carries the cookie. Without either, `/` shows a short bilingual form asking for the key
and the API answers 401. Scripts send `Authorization: Bearer KEY`, exactly as for `/v1`.
In classroom mode the identity layer registers its signed sign-in cookie with `accept(check)`.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from http.cookies import SimpleCookie
from typing import Callable, Mapping

COOKIE = "llmlab_page"
GUARDED_PREFIXES = ("/gradio_api/", "/config")  # what the page's script calls; assets stay open

_extra: list[Callable[[Mapping[str, str]], bool]] = []


def api_key() -> str | None:
    return os.environ.get("LLMLAB_API_KEY") or None


def accept(check: Callable[[Mapping[str, str]], bool]) -> None:
    """Register another credential (e.g. the classroom sign-in cookie): check(headers) -> bool."""
    if check not in _extra:
        _extra.append(check)


def _sign(key: str, nonce: str) -> str:
    return hmac.new(key.encode(), b"llmlab-page:" + nonce.encode(), hashlib.sha256).hexdigest()


def new_token(key: str) -> str:
    nonce = secrets.token_hex(16)
    return f"{nonce}.{_sign(key, nonce)}"


def valid_token(key: str, token: str | None) -> bool:
    nonce, _, sig = (token or "").partition(".")
    return bool(nonce and sig) and hmac.compare_digest(sig, _sign(key, nonce))


def cookies(headers: Mapping[str, str]) -> dict[str, str]:
    jar = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # noqa: BLE001 - a malformed cookie header is just no cookie
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


def bearer(headers: Mapping[str, str]) -> str:
    value = headers.get("authorization", "")
    return value[7:].strip() if value.lower().startswith("bearer ") else ""


def key_matches(key: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), key.encode())


def allowed(key: str, headers: Mapping[str, str]) -> bool:
    """The key as a bearer token, a valid page cookie, or a registered credential."""
    if key_matches(key, bearer(headers)) or valid_token(key, cookies(headers).get(COOKIE)):
        return True
    return any(check(headers) for check in _extra)


def guarded(path: str) -> bool:
    return path == "/" or path.startswith(GUARDED_PREFIXES)
