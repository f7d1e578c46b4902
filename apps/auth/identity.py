"""Who is who on this server: the mode, the signed-in user of a request, and the guard Gradio calls.

    auth = Auth.from_env()             # LLMLAB_MODE = personal | classroom | spaces (SPACE_ID → spaces)
    auth.identify(request)             # gr.mount_gradio_app(auth_dependency=...): user id or None (refused)
    auth.user(request.username)        # the User a handler passes to the logic layer

personal: one implicit user (LOCAL), no sign-in, as `make run` always was. classroom: a signed
cookie from the sign-in page (apps.auth.web) names a member of the class database. spaces: a
Hugging Face OAuth profile (`gr.LoginButton`; LLMLAB_HF_ORG limits it to one organisation), else
a signed per-browser guest id that the server mints; never a Gradio session hash.

A Gradio session hash keys each browser's gr.State (provider keys live there), and any client may
send any hash. So the first signed-in user to use a hash owns it; another user sending it is refused.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import threading
from collections import OrderedDict

from apps.auth import tokens
from apps.auth.store import ClassStore
from apps.auth.users import LOCAL, STUDENT, TEACHER, User
from apps.errors import LabError

MODES = ("personal", "classroom", "spaces")
MAX_BINDINGS = 200_000  # session hashes remembered (oldest forgotten first)
_MEMBER = re.compile(r"^c(\d+)-u(\d+)$")


def mode_from_env(env=None) -> str:
    env = os.environ if env is None else env
    mode = (env.get("LLMLAB_MODE") or ("spaces" if env.get("SPACE_ID") else "personal")).strip().lower()
    if mode not in MODES:
        raise LabError("auth.bad_mode", mode=mode, modes=", ".join(MODES))
    return mode


def user_from_oauth(oauth_info: dict | None, org: str | None = None, admins: tuple = ()) -> User | None:
    """A Hugging Face OAuth session (what gr.OAuthProfile wraps) → User; None if absent or, with
    `org`, not a member of it. `admins`: HF user names who get the teacher role."""
    info = (oauth_info or {}).get("userinfo") or {}
    name = str(info.get("preferred_username") or "").strip()
    if not name:
        return None
    if org:
        orgs = {str(o.get("preferred_username") or o.get("name") or "") for o in info.get("orgs") or []}
        if org not in orgs:
            return None
    slug = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:60] or "user"
    return User(id=f"hf-{slug}", name=name, role=TEACHER if name in admins else STUDENT)


class Auth:
    """One per app: the mode, the class database (classroom), the cookie secret, session bindings."""

    def __init__(self, mode: str = "personal", store: ClassStore | None = None, secret: bytes | None = None,
                 hf_org: str | None = None, hf_admins: tuple = ()):
        if mode not in MODES:
            raise LabError("auth.bad_mode", mode=mode, modes=", ".join(MODES))
        self.mode = mode
        self.store = store or (ClassStore() if mode == "classroom" else None)
        self.secret = secret or (tokens.server_secret() if mode != "personal" else b"")
        self.hf_org, self.hf_admins = hf_org, tuple(hf_admins)
        self._lock = threading.Lock()
        self._bindings: OrderedDict[str, str] = OrderedDict()  # session hash → user id
        from apps.auth.quotas import Quotas

        self.quotas = Quotas(self)

    @classmethod
    def from_env(cls, mode: str | None = None) -> "Auth":
        admins = tuple(a.strip() for a in os.environ.get("LLMLAB_HF_ADMINS", "").split(",") if a.strip())
        return cls(mode or mode_from_env(), hf_org=os.environ.get("LLMLAB_HF_ORG") or None, hf_admins=admins)

    @property
    def personal(self) -> bool:
        return self.mode == "personal"

    # ---- cookies ----
    def cookie_for(self, user: User, version: int = 0) -> str:
        m = _MEMBER.match(user.id)
        payload = {"m": int(m.group(2)), "v": version} if m else {"g": user.id}
        return tokens.sign(payload, self.secret)

    def sign_in(self, code: str, name: str, password: str) -> tuple[User, str]:
        """(user, cookie value) or LabError("auth.bad_sign_in")."""
        if self.mode != "classroom":
            raise LabError("auth.not_classroom")
        user, version = self.store.sign_in(code, name, password)
        return user, self.cookie_for(user, version)

    def new_guest(self) -> tuple[User, str]:
        user = User(id=f"g-{secrets.token_hex(8)}", name="", role=STUDENT)
        return user, self.cookie_for(user)

    def user_from_cookie(self, cookie: str | None) -> User | None:
        payload = tokens.verify(cookie, self.secret) if self.secret else None
        if payload is None:
            return None
        if "m" in payload and self.store is not None:
            found = self.store.user(int(payload["m"]))
            if found is None or found[1] != payload.get("v"):
                return None  # removed, or the password was reset since
            return found[0]
        if self.mode == "spaces" and isinstance(payload.get("g"), str) and payload["g"].startswith("g-"):
            return User(id=payload["g"], name="", role=STUDENT)
        return None

    def user_of_request(self, request) -> User | None:
        """The signed-in user of a Starlette/FastAPI request (no session-hash check)."""
        if self.personal:
            return LOCAL
        if self.mode == "spaces":
            session = request.scope.get("session") if "session" in request.scope else None
            user = user_from_oauth((session or {}).get("oauth_info"), self.hf_org, self.hf_admins)
            if user is not None or self.hf_org:
                return user
        return self.user_from_cookie(request.cookies.get(tokens.COOKIE))

    # ---- Gradio's auth_dependency ----
    async def identify(self, request) -> str | None:
        """The user id for Gradio (it becomes request.username in every handler), or None: refused."""
        user = self.user_of_request(request)
        if user is None:
            return None
        for session_hash in await _session_hashes(request):
            if not self.bind(session_hash, user.id):
                return None
        return user.id

    def bind(self, session_hash: str, user_id: str) -> bool:
        """Claim a session hash for a user; False if another user already holds it."""
        with self._lock:
            owner = self._bindings.get(session_hash)
            if owner is None:
                self._bindings[session_hash] = user_id
                if len(self._bindings) > MAX_BINDINGS:
                    self._bindings.popitem(last=False)
                return True
            self._bindings.move_to_end(session_hash)
            return owner == user_id

    # ---- what apps.security asks ----
    def install(self) -> None:
        """Make apps.security follow this server: uploads are recorded and checked under the
        signed-in user's id (not a typed name, not a session hash), and the policy's allowlists and
        upload limit include the class settings the teacher manages (read on every check). The
        policy's mode stays $LLMLAB_MODE's (the one convention both layers read). Personal mode
        leaves apps.security's single-user, environment-only defaults alone."""
        from apps.security import owner, policy

        if not self.personal:
            owner.use(self.owner_from_headers)
            policy.use(self.policy)

    def owner_from_headers(self, headers) -> str:
        """apps.security.owner's resolver: the signed-in user's id from the Cookie header. Without a
        valid cookie, "local": Gradio refuses such requests before any handler or upload in
        classroom and Spaces modes, so only a personal-mode caller is ever seen that way."""
        from starlette.requests import cookie_parser

        user = self.user_from_cookie(cookie_parser(headers.get("cookie", "")).get(tokens.COOKIE))
        return user.id if user is not None else "local"

    def policy(self):
        """apps.security.policy.Policy for this server: the environment's, with every class's model
        and base-URL allowlists added and the smallest upload limit."""
        from dataclasses import replace

        from apps.security import policy as P

        base = P.from_env()
        if self.store is None:
            return base
        models, urls, upload = set(base.model_allowlist), set(base.url_allowlist), base.max_upload_bytes
        for row in self.store.classes():
            s = self.store.settings(row["class_id"])
            models |= set(s["models"])
            urls |= set(s["base_urls"])
            upload = min(upload, int(s["upload_mb"]) << 20)
        return replace(base, model_allowlist=tuple(sorted(models)), url_allowlist=tuple(sorted(urls)),
                       max_upload_bytes=upload)

    # ---- handlers ----
    def user(self, username: str | None) -> User:
        """The User behind gr.Request.username (which `identify` set); personal mode: LOCAL."""
        if self.personal:
            return LOCAL
        m = _MEMBER.match(username or "")
        if m and self.store is not None:
            found = self.store.user(int(m.group(2)))
            if found is not None:
                return found[0]
        elif username and username.startswith(("g-", "hf-")):
            role = TEACHER if username[3:] in [a.lower() for a in self.hf_admins] else STUDENT
            return User(id=username, name=username[3:] if username.startswith("hf-") else "", role=role)
        raise LabError("auth.not_signed_in")

    def settings(self, user: User) -> dict:
        """The class settings (quotas, allowlists) that apply to `user`."""
        from apps.auth.store import DEFAULTS

        if self.store is None or user.class_id is None:
            return dict(DEFAULTS)
        return self.store.settings(user.class_id)


async def _session_hashes(request) -> list[str]:
    """Every Gradio session hash a request names: ?session_hash=, /heartbeat/<hash>, or the JSON body."""
    found = []
    if request.query_params.get("session_hash"):
        found.append(request.query_params["session_hash"])
    m = re.search(r"/heartbeat/([^/?]+)", request.url.path)
    if m:
        found.append(m.group(1))
    if request.method == "POST" and "json" in (request.headers.get("content-type") or ""):
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("session_hash"), str):
            found.append(body["session_hash"])
    return found
