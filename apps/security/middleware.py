"""One ASGI layer around the whole lab server: the API-key gate, bounded request bodies, the upload
ledger, and JSON (never plain-text) errors.

    app = SecurityLayer(app, ledger)     # apps/server.py wraps the FastAPI app with it

- Gate (`gate.py`): with `LLMLAB_API_KEY` set, the page and `/gradio_api/*` need the key or the page
  cookie; `/v1` checks the key itself.
- Limits: a body above the policy's limit (the upload route: the upload limit) gets 413 with a clear
  bilingual message, JSON (OpenAI-shaped) or HTML for a browser page, before the app reads it; a
  chunked body is counted as it streams and cut off the same way.
- Uploads: the paths Gradio's upload route returns are recorded under the caller (`owner.py`), so
  event handlers accept only files their caller uploaded (`files.py`).
- Errors: an exception that escapes the app is logged and answered with a JSON 500 (if nothing was
  sent yet) and never re-raised to the server, so the client's connection stays usable.
"""
from __future__ import annotations

import html
import json
import logging
from urllib.parse import parse_qs

from apps.i18n import both
from apps.security import gate, owner, policy
from apps.security.files import UploadLedger

log = logging.getLogger("llmlab.security")

UPLOAD_PATH = "/gradio_api/upload"
MULTIPART_SLACK = 64 << 10  # boundaries and part headers around the uploaded bytes


class BodyTooLarge(BaseException):
    """Raised from `receive` once a body passes its limit. A BaseException, like a cancellation, so
    a handler's own `except Exception` cannot turn it into some other error on its way out."""


def error_body(message: str, status: int, code: str) -> bytes:
    kind = "server_error" if status >= 500 else "invalid_request_error"
    return json.dumps({"error": {"message": message, "type": kind, "param": None, "code": code}},
                      ensure_ascii=False).encode()


def _headers(scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in scope.get("headers", []):
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        out[key] = f"{out[key]}; {text}" if key == "cookie" and key in out else text
    return out


def _wants_html(headers: dict[str, str]) -> bool:
    accept = headers.get("accept", "")
    return "text/html" in accept and "json" not in accept


async def _respond(send, status: int, body: bytes, content_type: str, extra: list | None = None) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + (extra or [])})
    await send({"type": "http.response.body", "body": body})


async def send_error(send, headers: dict, status: int, message: str, code: str) -> None:
    if _wants_html(headers):
        page = f"<!doctype html><meta charset='utf-8'><title>{status}</title><p>{html.escape(message)}</p>"
        await _respond(send, status, page.encode(), "text/html; charset=utf-8")
    else:
        await _respond(send, status, error_body(message, status, code), "application/json")


def _key_form(message: str) -> bytes:
    return (f"<!doctype html><meta charset='utf-8'><title>LLM 0→1 Lab</title>"
            f"<form method='get' action='/' style='font-family:sans-serif;margin:3em'>"
            f"<p>{html.escape(message)}</p><input name='key' type='password' autofocus> "
            f"<button>OK</button></form>").encode()


class SecurityLayer:
    def __init__(self, app, ledger: UploadLedger):
        self.app = app
        self.ledger = ledger

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = _headers(scope)
        path = scope.get("path", "")
        started = False

        async def tracked_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            if await self._gate(scope, headers, path, tracked_send):
                return
            limit = self._limit(path)
            length = headers.get("content-length", "")
            if length.isdigit() and int(length) > limit:
                return await self._too_large(tracked_send, headers, path)
            receive = self._counting(receive, limit)
            if path == UPLOAD_PATH and scope.get("method") == "POST":
                tracked_send = self._recording(tracked_send, owner.owner_of(headers))
            await self.app(scope, receive, tracked_send)
        except (BodyTooLarge, BaseExceptionGroup) as exc:
            if isinstance(exc, BaseExceptionGroup) and exc.subgroup(BodyTooLarge) is None:
                raise
            if not started:
                await self._too_large(tracked_send, headers, path)
        except Exception as exc:  # noqa: BLE001 - the last line of defence: log, answer JSON, keep serving
            log.exception("unhandled error on %s", path)
            if not started:
                await send_error(tracked_send, headers, 500, both("security.server_error", kind=type(exc).__name__),
                                 "internal_error")

    # ------------------------------------------------------------ gate

    async def _gate(self, scope, headers, path, send) -> bool:
        """True when the gate answered the request itself (refused it, or set the page cookie)."""
        key = gate.api_key()
        if not key or not gate.guarded(path) or gate.allowed(key, headers):
            return False
        if path == "/" and scope.get("method") == "GET":
            given = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("key", [""])[0]
            if gate.key_matches(key, given):
                secure = "; Secure" if scope.get("scheme") == "https" else ""
                cookie = f"{gate.COOKIE}={gate.new_token(key)}; Path=/; HttpOnly; SameSite=Lax{secure}"
                await _respond(send, 303, b"", "text/plain",
                               [(b"location", b"/"), (b"set-cookie", cookie.encode())])
                return True
            await _respond(send, 401, _key_form(both("security.key_page")), "text/html; charset=utf-8")
            return True
        await send_error(send, headers, 401, both("security.key_required"), "invalid_api_key")
        return True

    # ------------------------------------------------------------ limits

    def _limit(self, path: str) -> int:
        active = policy.current()
        return active.max_upload_bytes + MULTIPART_SLACK if path == UPLOAD_PATH else active.max_body_bytes

    async def _too_large(self, send, headers, path) -> None:
        active = policy.current()
        if path == UPLOAD_PATH:
            message = both("security.upload_too_large", mb=round(active.max_upload_bytes / (1 << 20), 2))
        else:
            message = both("security.body_too_large", mb=round(active.max_body_bytes / (1 << 20), 2))
        await send_error(send, headers, 413, message, "request_too_large")

    @staticmethod
    def _counting(receive, limit: int):
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge()
            return message
        return counted

    # ------------------------------------------------------------ uploads

    def _recording(self, send, who: str):
        status, chunks = 0, []

        async def recording(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and status == 200:
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    try:
                        paths = json.loads(b"".join(chunks))
                    except ValueError:
                        paths = []
                    if isinstance(paths, list):
                        self.ledger.add(who, [p for p in paths if isinstance(p, str)])
            await send(message)
        return recording


def json_errors(app) -> None:
    """Make a Starlette/FastAPI app answer an unhandled exception with JSON, not 'Internal Server
    Error' in plain text (its ServerErrorMiddleware then re-raises; SecurityLayer swallows that)."""
    from starlette.responses import Response

    async def handler(request, exc):
        message = both("security.server_error", kind=type(exc).__name__)
        return Response(error_body(message, 500, "internal_error"), 500, media_type="application/json")

    app.add_exception_handler(Exception, handler)
