"""The sign-in page, sign-out, and the gate in front of the UI (FastAPI, no Gradio, no CDN).

    GET  /login      the form (zh + en; ?lang=zh|en, else Accept-Language)
    POST /login      code + name + password → the signed cookie, then back to /
    GET  /logout     forget the cookie

`mount(app, auth)` adds these routes and a small ASGI gate: in classroom mode a browser without a
valid cookie asking for the page is sent to /login (Gradio itself answers its API with 401); in
spaces mode a visitor without OAuth or cookie gets a signed guest cookie.
"""
from __future__ import annotations

import html
import json
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from apps.auth import tokens
from apps.auth.quotas import RateLimiter
from apps.errors import LabError
from apps.i18n import lang_from_accept, norm_lang, t

FAILS_PER_5_MIN = 10  # wrong passwords per (class code, name) before a five-minute pause
MAX_FORM_BYTES = 4096

PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;background:#f5f7fb;margin:0}}
main{{max-width:380px;margin:8vh auto;background:#fff;padding:28px;border-radius:12px;box-shadow:0 2px 12px #0001}}
label{{display:block;margin:12px 0 4px;font-weight:600}}input{{width:100%;padding:8px;box-sizing:border-box;
border:1px solid #ccd;border-radius:6px;font-size:16px}}button{{margin-top:18px;width:100%;padding:10px;border:0;
border-radius:6px;background:#4f46e5;color:#fff;font-size:16px}}.err{{color:#b91c1c;margin-top:12px}}
.note{{color:#555;font-size:14px}}nav{{text-align:right;font-size:14px}}</style></head><body><main>
<nav><a href="/login?lang=zh">中文</a> · <a href="/login?lang=en">English</a></nav>
<h2>{title}</h2><p class="note">{intro}</p>
<form method="post" action="/login?lang={lang}" id="login-form">
<label for="code">{code}</label><input id="code" name="code" autocomplete="off" required value="{code_value}">
<label for="name">{name}</label><input id="name" name="name" autocomplete="username" required value="{name_value}">
<label for="password">{password}</label><input id="password" name="password" type="password"
 autocomplete="current-password" required>
<button type="submit" id="login-submit">{submit}</button></form>{error}</main></body></html>"""


def page(lang: str, error: str = "", code: str = "", name: str = "") -> str:
    esc = lambda key: html.escape(t(key, lang))  # noqa: E731
    return PAGE.format(lang=lang, title=esc("auth.login.title"), intro=esc("auth.login.intro"),
                       code=esc("auth.login.code"), name=esc("auth.login.name"), password=esc("auth.login.password"),
                       submit=esc("auth.login.submit"), code_value=html.escape(code), name_value=html.escape(name),
                       error=f'<p class="err" id="login-error">{html.escape(error)}</p>' if error else "")


def _lang(request) -> str:
    given = request.query_params.get("lang")
    return norm_lang(given) if given else lang_from_accept(request.headers.get("accept-language"))


def set_cookie(response, request, value: str) -> None:
    response.set_cookie(tokens.COOKIE, value, max_age=tokens.MAX_AGE_S, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", path="/")


def mount(app, auth) -> None:
    fails = RateLimiter(window_s=300)

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_form(request: Request):
        if auth.mode != "classroom":
            return RedirectResponse("/", status_code=303)
        return HTMLResponse(page(_lang(request)))

    @app.post("/login", include_in_schema=False)
    async def login(request: Request):
        lang = _lang(request)
        if auth.mode != "classroom":
            return RedirectResponse("/", status_code=303)
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return HTMLResponse(page(lang, t("auth.bad_sign_in", lang)), status_code=413)
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        code, name, password = form.get("code", ""), form.get("name", ""), form.get("password", "")
        key = f"{code.strip().upper()}|{name.strip().casefold()}"
        try:
            if fails.admit(key, FAILS_PER_5_MIN) > 0:
                raise LabError("auth.too_many")
            user, cookie = auth.sign_in(code, name, password)
        except LabError as exc:
            return HTMLResponse(page(lang, exc.message(lang), code, name), status_code=401)
        response = RedirectResponse("/", status_code=303)
        set_cookie(response, request, cookie)
        return response

    @app.get("/logout", include_in_schema=False)
    def logout(request: Request):
        response = RedirectResponse("/login" if auth.mode == "classroom" else "/", status_code=303)
        response.delete_cookie(tokens.COOKIE, path="/")
        return response

    if not auth.personal:
        app.add_middleware(Gate, auth=auth)


class Gate:
    """ASGI middleware: page requests without a user go to /login (classroom) or get a guest cookie
    (spaces). API requests pass through: Gradio's auth_dependency refuses them itself."""

    def __init__(self, app, auth):
        self.app, self.auth = app, auth

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"].endswith("/gradio_api/cancel"):
            return await self._cancel(scope, receive, send)
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] not in ("/", ""):
            return await self.app(scope, receive, send)
        from starlette.requests import Request
        from starlette.responses import RedirectResponse

        request = Request(scope)
        if self.auth.user_of_request(request) is not None:
            return await self.app(scope, receive, send)
        if self.auth.mode == "classroom" or self.auth.hf_org:
            target = "/login" if self.auth.mode == "classroom" else "/login/huggingface"
            return await RedirectResponse(target, status_code=303)(scope, receive, send)
        # spaces without an org limit: a signed guest id for this browser, usable at once
        _user, cookie = self.auth.new_guest()
        headers = [(k, v) for k, v in scope["headers"] if k != b"cookie"]
        others = request.headers.get("cookie")
        headers.append((b"cookie", (f"{others}; " if others else "").encode() + f"{tokens.COOKIE}={cookie}".encode()))
        scope = {**scope, "headers": headers}

        async def send_with_cookie(message):
            if message["type"] == "http.response.start":
                # a Space is shown in an iframe on huggingface.co: a cross-site cookie needs SameSite=None
                # (and so Secure); over plain http (a local test) Lax is the only kind a browser keeps
                https = scope.get("scheme") == "https" or dict(scope["headers"]).get(b"x-forwarded-proto") == b"https"
                flags = "SameSite=None; Secure" if https else "SameSite=Lax"
                value = f"{tokens.COOKIE}={cookie}; Path=/; Max-Age={tokens.MAX_AGE_S}; HttpOnly; {flags}"
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", value.encode())]}
            await send(message)

        return await self.app(scope, receive, send_with_cookie)

    async def _cancel(self, scope, receive, send):
        """Gradio's /cancel route asks nobody who is calling: only the user holding a session hash
        may cancel that session's events (the body is read here, then handed on unchanged)."""
        from starlette.requests import Request
        from starlette.responses import JSONResponse

        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_FORM_BYTES:
                return await JSONResponse({"detail": "too large"}, status_code=413)(scope, receive, send)
        try:
            session_hash = json.loads(body or b"{}").get("session_hash")
        except (ValueError, AttributeError):
            session_hash = None
        user = self.auth.user_of_request(Request(scope))
        if user is None or (isinstance(session_hash, str) and not self.auth.bind(session_hash, user.id)):
            return await JSONResponse({"detail": "Not authenticated"}, status_code=401)(scope, receive, send)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)
