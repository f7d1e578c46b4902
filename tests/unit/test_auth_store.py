"""The identity layer without a server: password hashing, signed cookies, sign-in rules, roles and
ownership, session binding, quotas, settings, same-named uploads, votes and their export, the CLI."""
from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import stat

import pytest
from fastapi import FastAPI, Request

from apps.auth import Auth, LOCAL, User, may_access, tokens
from apps.auth.quotas import Quotas, RateLimiter
from apps.auth.store import ClassStore, check_password, hash_password
from apps.errors import LabError


@pytest.fixture
def store(tmp_path):
    return ClassStore(tmp_path / "class.db")


@pytest.fixture
def klass(store):
    return store.create_class("NLP 2026")


def test_passwords_are_salted_scrypt():
    a, b = hash_password("same password"), hash_password("same password")
    assert a != b and a.startswith("scrypt$") and "same password" not in a  # salted: equal inputs differ
    assert check_password("same password", a) and check_password("same password", b)
    assert not check_password("same passwore", a) and not check_password("", a)
    assert not check_password("x", "garbage") and not check_password("x", "md5$1$2$3$4$5")


def test_cookies_are_signed_and_expire(tmp_path):
    secret = tokens.server_secret(tmp_path / "session.key")
    assert len(secret) == 32 and stat.S_IMODE(os.stat(tmp_path / "session.key").st_mode) == 0o600
    assert tokens.server_secret(tmp_path / "session.key") == secret  # made once, then read
    cookie = tokens.sign({"m": 7, "v": 0}, secret)
    assert tokens.verify(cookie, secret)["m"] == 7
    body, mac = cookie.split(".")
    other = tokens.sign({"m": 8, "v": 0}, secret).split(".")[0]
    assert tokens.verify(f"{other}.{mac}", secret) is None        # payload swapped under the old MAC
    assert tokens.verify(cookie, b"another secret" * 3) is None    # another server's secret
    for i in (-1, -2, len(body) + 3, 2):  # any one character changed, in the MAC or the payload
        for c in "AB":
            if cookie[i] != c:
                assert tokens.verify(cookie[:i % len(cookie)] + c + cookie[i % len(cookie) + 1:], secret) is None
    for junk in (None, "", "a.b.c", "x" * 5000, ".", "e30.", "!!.??"):
        assert tokens.verify(junk, secret) is None
    old = tokens.sign({"m": 7}, secret, max_age_s=10, now=1000.0)
    assert tokens.verify(old, secret, now=1005.0) and tokens.verify(old, secret, now=1011.0) is None


def test_sign_in_first_use_sets_the_password(store, klass):
    user, version = store.sign_in(klass["code"], "Li Lei", "li-password")
    assert user.role == "student" and user.class_id == klass["class_id"] and user.name == "Li Lei"
    again, _ = store.sign_in(klass["code"].lower(), " li  lei ", "li-password")  # code case, name spacing/case
    assert again.id == user.id
    for code, name, pw in ((klass["code"], "Li Lei", "wrong-pass"), ("0000-0000", "Li Lei", "li-password"),
                           (klass["code"], "", "li-password"), (klass["code"], "Li Lei", "")):
        with pytest.raises(LabError) as err:
            store.sign_in(code, name, pw)
        assert err.value.key == "auth.bad_sign_in"  # one message: nothing to probe
    with pytest.raises(LabError, match="at least 6"):
        store.sign_in(klass["code"], "Han", "123")
    teacher, _ = store.sign_in(klass["code"], "Teacher", klass["teacher_password"])
    assert teacher.is_teacher and not user.is_teacher
    with pytest.raises(LabError):
        store.sign_in(klass["code"], "teacher", "a-student-guess")


def test_roster_reset_and_remove_kill_old_cookies(store, klass, tmp_path):
    auth = Auth("classroom", store=store, secret=b"s" * 32)
    cid = klass["class_id"]
    store.update_settings(cid, open_join=False)
    with pytest.raises(LabError):
        auth.sign_in(klass["code"], "Stranger", "stranger-pw")  # closed class: roster only
    assert store.add_students(cid, ["Han Meimei", "han meimei", "Li Lei"]) == {"added": ["Han Meimei", "Li Lei"],
                                                                               "existing": ["han meimei"]}
    with pytest.raises(LabError):
        store.add_students(cid, ["Teacher"])
    han, cookie = auth.sign_in(klass["code"], "Han Meimei", "han-first-pw")
    assert auth.user_from_cookie(cookie) == han
    new_pw = store.reset_password(cid, "Han Meimei")
    assert auth.user_from_cookie(cookie) is None  # reset: the old cookie is dead
    with pytest.raises(LabError):
        auth.sign_in(klass["code"], "Han Meimei", "han-first-pw")
    han2, cookie2 = auth.sign_in(klass["code"], "Han Meimei", new_pw)
    store.remove(cid, "Han Meimei")
    assert auth.user_from_cookie(cookie2) is None
    with pytest.raises(LabError) as err:
        auth.sign_in(klass["code"], "Han Meimei", new_pw)
    assert err.value.key == "auth.removed"
    assert [r["name"] for r in store.roster(cid)] == ["teacher", "Li Lei"]


def test_who_may_reach_what(store, klass):
    other = store.create_class("Another class")
    ann, _ = store.sign_in(klass["code"], "Ann", "ann-password")
    bob, _ = store.sign_in(klass["code"], "Bob", "bob-password")
    teacher, _ = store.sign_in(klass["code"], "teacher", klass["teacher_password"])
    other_teacher, _ = store.sign_in(other["code"], "teacher", other["teacher_password"])
    assert may_access(ann, ann.id) and not may_access(bob, ann.id)
    assert may_access(teacher, ann.id) and not may_access(other_teacher, ann.id)
    assert may_access(LOCAL, ann.id) and may_access(LOCAL, "")  # personal mode: the machine's owner
    assert not may_access(None, ann.id) and not may_access(ann, "")
    auth = Auth("classroom", store=store, secret=b"s" * 32)
    assert auth.user(ann.id) == ann
    for forged in (None, "", "Ann", "local", "c1-u999", "../etc"):
        with pytest.raises(LabError):
            auth.user(forged)
    assert Auth("personal").user(None) is LOCAL and Auth("personal").user("anything") is LOCAL


def test_a_session_hash_belongs_to_its_first_user():
    auth = Auth("classroom", store=None, secret=b"s" * 32)
    assert auth.bind("abc", "c1-u1") and auth.bind("abc", "c1-u1")
    assert not auth.bind("abc", "c1-u2")

    class Req:  # what identify reads of a FastAPI request
        def __init__(self, user_cookie, query=None, body=None):
            self.cookies = {tokens.COOKIE: user_cookie}
            self.query_params = query or {}
            self.method = "POST" if body else "GET"
            self.headers = {"content-type": "application/json"}
            self._body = json.dumps(body).encode() if body else b""
            self.url = type("U", (), {"path": "/gradio_api/queue/join"})()
            self.scope = {}

        async def body(self):
            return self._body

    spaces = Auth("spaces", secret=b"s" * 32)
    guest, cookie = spaces.new_guest()
    other, cookie2 = spaces.new_guest()
    def run(coro):  # on its own thread: a browser test earlier in the session may own this thread's loop
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, coro).result()
    assert run(spaces.identify(Req(cookie, body={"session_hash": "h1"}))) == guest.id
    assert run(spaces.identify(Req(cookie2, body={"session_hash": "h1"}))) is None       # someone else's hash
    assert run(spaces.identify(Req(cookie2, query={"session_hash": "h1"}))) is None
    assert run(spaces.identify(Req(cookie2, query={"session_hash": "h2"}))) == other.id
    assert run(spaces.identify(Req("forged.cookie"))) is None


def test_hf_oauth_profile_and_org():
    from apps.auth.identity import user_from_oauth

    info = {"userinfo": {"preferred_username": "Li-Lei", "orgs": [{"preferred_username": "nlp-class"}]}}
    user = user_from_oauth(info)
    assert user.id == "hf-li-lei" and user.name == "Li-Lei" and not user.is_teacher
    assert user_from_oauth(info, org="nlp-class").id == "hf-li-lei"
    assert user_from_oauth(info, org="other-org") is None and user_from_oauth(None) is None
    assert user_from_oauth(info, admins=("Li-Lei",)).is_teacher


def test_quotas(store, klass):
    auth = Auth("classroom", store=store, secret=b"s" * 32)
    ann, _ = store.sign_in(klass["code"], "Ann", "ann-password")
    teacher, _ = store.sign_in(klass["code"], "teacher", klass["teacher_password"])
    store.update_settings(klass["class_id"], max_new_tokens=64, requests_per_minute=2, train_steps=10, queued_runs=1)
    q = auth.quotas
    with pytest.raises(LabError, match="64"):
        q.generation(ann, 65)
    q.generation(ann, 64)
    q.generation(ann, 8)
    with pytest.raises(LabError) as err:
        q.generation(ann, 8)
    assert err.value.key == "auth.quota.rate" and "每分钟" in err.value.message("zh")
    q.generation(teacher, 4096)  # the teacher is not limited
    with pytest.raises(LabError):
        q.training(ann, 11, 0)
    with pytest.raises(LabError):
        q.training(ann, 10, 1)
    q.training(ann, 10, 0)
    limiter = RateLimiter(window_s=60)
    assert [limiter.admit("k", 2, now=t) == 0 for t in (0, 1, 2)] == [True, True, False]
    assert limiter.admit("k", 2, now=61) == 0  # the first one left the window
    Quotas(None).generation(LOCAL, 10 ** 6)


def test_settings_are_validated(store, klass):
    cid = klass["class_id"]
    s = store.update_settings(cid, max_new_tokens="256", models="a, b\nc", open_join="no")
    assert s["max_new_tokens"] == 256 and s["models"] == ["a", "b", "c"] and s["open_join"] is False
    for bad in ({"max_new_tokens": 0}, {"max_new_tokens": "lots"}, {"no_such": 1}):
        with pytest.raises(LabError):
            store.update_settings(cid, **bad)
    assert store.settings(cid)["max_new_tokens"] == 256


def test_same_named_uploads_never_overwrite(tmp_path):
    from apps.finetune import data

    up_a, up_b = tmp_path / "a" / "train.jsonl", tmp_path / "b" / "train.jsonl"
    for path, text in ((up_a, "ann"), (up_b, "bob")):
        path.parent.mkdir()
        path.write_text(json.dumps({"prompt": text, "completion": "x"}) + "\n", encoding="utf-8")
    kept_a = data.keep_upload(str(up_a), tmp_path / "runs", "c1-u1")
    kept_b = data.keep_upload(str(up_b), tmp_path / "runs", "c1-u2")
    kept_a2 = data.keep_upload(str(up_b), tmp_path / "runs", "c1-u1")  # same owner, same name, new content
    assert len({kept_a, kept_b, kept_a2}) == 3
    assert "/datasets/c1-u1/" in kept_a and "/datasets/c1-u2/" in kept_b
    assert "ann" in open(kept_a, encoding="utf-8").read()  # Ann's queued run still reads Ann's data
    for bad_owner in ("", "../x", ".hidden"):
        with pytest.raises(LabError):
            data.keep_upload(str(up_a), tmp_path / "runs", bad_owner)


def test_votes_carry_the_user_and_exports_carry_no_id(tmp_path):
    from apps.arena.battles import Arena
    from apps.arena.store import VoteStore

    arena = Arena(VoteStore(tmp_path / "v.db"), pool=["smollm2-135m-instruct", "smollm2-135m-instruct@creative"])
    ann = User(id="c1-u5", name="Ann", role="student", class_id=1)
    battle = arena.new_battle("hi", session="a-gradio-session-hash", user=ann)
    battle.responses, battle.finished = ["a", "b"], True
    arena.vote(battle, "model_a")
    [rec] = arena.store.records()
    assert rec["llmlab"]["session"] == "c1-u5"
    out = tmp_path / "out.jsonl"
    arena.store.export_file(out)
    text = out.read_text()
    assert "c1-u5" not in text and "a-gradio-session-hash" not in text
    assert json.loads(text)["judge"].startswith("arena_user_")
    with pytest.raises(LabError) as err:
        arena.set_pool(["api:openai/gpt-4o-mini@http://127.0.0.1:9/v1"], user=ann)
    assert err.value.key == "auth.teacher_only"
    with pytest.raises(LabError) as err:
        arena.new_battle("hi", "api:openai/gpt-4o-mini@http://127.0.0.1:9/v1", "smollm2-135m-instruct", user=ann)
    assert err.value.key == "arena.not_in_pool"


def test_class_cli(tmp_path, monkeypatch, capsys):
    from apps.cli import main

    monkeypatch.setenv("LLMLAB_CLASS_DB", str(tmp_path / "class.db"))
    assert main(["class", "create", "CLI class", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["code"] and info["teacher_password"]
    roster = tmp_path / "names.csv"
    roster.write_text("name\n李雷\nHan Meimei\n\n", encoding="utf-8")
    assert main(["class", "roster", "add", "--csv", str(roster), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["added"] == ["李雷", "Han Meimei"]
    assert main(["class", "roster", "list", "--json"]) == 0
    assert [r["name"] for r in json.loads(capsys.readouterr().out)] == ["teacher", "Han Meimei", "李雷"]
    assert main(["class", "roster", "reset", "--name", "李雷", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["李雷"]) >= 8
    assert main(["class", "settings", "--set", "max_new_tokens=128", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["max_new_tokens"] == 128
    assert main(["class", "settings", "--set", "max_new_tokens=-3"]) == 2
    assert "max_new_tokens" in capsys.readouterr().err
    assert main(["class", "roster", "remove", "--name", "Nobody"]) == 2


def test_class_settings_feed_the_security_policy(store, klass):
    from apps.security import owner, policy

    auth = Auth("classroom", store=store, secret=b"s" * 32)
    store.update_settings(klass["class_id"], models=["Qwen/Qwen3-0.6B"], base_urls=["http://10.0.0.5:8000/v1"],
                          upload_mb=3)
    ann, cookie = auth.sign_in(klass["code"], "Ann", "ann-password")
    try:
        auth.install()
        p = policy.current()
        assert p.mode == policy.mode_from_env()  # the mode is $LLMLAB_MODE's, for both layers
        assert "Qwen/Qwen3-0.6B" in p.model_allowlist and "http://10.0.0.5:8000/v1" in p.url_allowlist
        assert p.max_upload_bytes == 3 << 20
        assert owner.owner_of({"cookie": f"other=1; {tokens.COOKIE}={cookie}"}) == ann.id
        # no valid cookie: "local", which only a personal-mode request can be (Gradio refuses the rest)
        assert owner.owner_of({"cookie": f"{tokens.COOKIE}=forged.value"}) == "local"
    finally:
        owner.use(None)
        policy.use(None)
    assert policy.current().model_allowlist == policy.from_env().model_allowlist


def test_spaces_visitors_get_a_signed_guest_id_not_a_session_hash():
    from starlette.testclient import TestClient

    from apps.auth import web

    auth = Auth("spaces", secret=b"s" * 32)
    app = FastAPI()
    web.mount(app, auth)

    @app.get("/")
    def who(request: Request):
        return {"user": auth.user_of_request(request).id}

    first, second = TestClient(app), TestClient(app)
    a = first.get("/")
    assert a.json()["user"].startswith("g-") and "HttpOnly" in a.headers["set-cookie"]
    assert first.get("/").json() == a.json()  # the browser keeps its id
    assert second.get("/").json() != a.json()  # another browser is someone else
    https = TestClient(app, base_url="https://space.hf.space").get("/")
    assert "SameSite=None; Secure" in https.headers["set-cookie"]  # usable inside the huggingface.co iframe
    assert TestClient(app).get("/login", follow_redirects=False).status_code == 303  # no sign-in page on a Space


def test_a_teachers_pool_edit_survives_a_restart(tmp_path):
    """The class pool lives in the class database: a fresh store and arena (a restarted server)
    find the teacher's edit; another class and the personal default are untouched."""
    from apps.arena.battles import Arena
    from apps.arena.store import VoteStore

    default = ["smollm2-135m-instruct", "gemma-3-270m"]
    store = ClassStore(tmp_path / "class.db")
    one, two = store.create_class("Pool A")["class_id"], store.create_class("Pool B")["class_id"]
    teacher = User(id=User.make_id(one, 1), name="teacher", role="teacher", class_id=one)
    ann = User(id=User.make_id(one, 9), name="Ann", role="student", class_id=one)
    other = User(id=User.make_id(two, 3), name="Bo", role="student", class_id=two)
    edit = ["smollm2-135m-instruct@creative", "gemma-3-270m@do_sample=true,temperature=0.7",
            "api:openai/gpt-4o-mini@https://api.openai.com/v1"]
    Arena(VoteStore(tmp_path / "v.db"), pool=default, pools=store).set_pool(edit, user=teacher)

    fresh = Arena(VoteStore(tmp_path / "v.db"), pool=default, pools=ClassStore(tmp_path / "class.db"))
    got = fresh.pool_for(ann)
    assert [c.name for c in got] == ["smollm2-135m-instruct@creative",
                                     "gemma-3-270m@do_sample=True,temperature=0.7", "api:openai/gpt-4o-mini"]
    assert got[1].decoding == {"do_sample": True, "temperature": 0.7}
    assert got[2].base_url == "https://api.openai.com/v1"  # the teacher's URL comes back with the entry
    assert [c.name for c in fresh.pool_for(other)] == default
    assert [c.name for c in fresh.pool_for(None)] == default
    assert store.pool(two) is None
    battle = fresh.new_battle("hi", "smollm2-135m-instruct@creative", "api:openai/gpt-4o-mini", user=ann)
    assert battle.mode == "named"  # a student's named battle is checked against the stored pool
