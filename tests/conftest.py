"""Shared fixtures: each real model is loaded once per test session, from the one process cache."""
from __future__ import annotations

import atexit
import os
import shutil
import socket
import tempfile
import threading
import time

import pytest
import torch

torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))

# What users make (runs, RAG indexes, votes, progress, classes) goes to a folder of this test session,
# never to the developer's own (~/.cache/llmlab, ./runs): the suite once saved its RAG index over theirs.
# Set at import, before any app or live server reads its paths; converted models stay shared (speed).
_STATE = tempfile.mkdtemp(prefix="llmlab-tests-")
atexit.register(shutil.rmtree, _STATE, True)  # pytest_unconfigure removes it too: it leaves by os._exit
os.environ.update({"LLMLAB_RUNS": os.path.join(_STATE, "runs"), "LLMLAB_INDEXES": os.path.join(_STATE, "indexes"),
                   "LLMLAB_ARENA_DB": os.path.join(_STATE, "arena.db"),
                   "LLMLAB_PROGRESS_DB": os.path.join(_STATE, "progress.db"),
                   "LLMLAB_CLASS_DB": os.path.join(_STATE, "class.db")})


@pytest.fixture(scope="session")
def cache():
    from apps.models import default_cache

    return default_cache()


@pytest.fixture(scope="session")
def smollm(cache):
    return cache.get("smollm2-135m-instruct")


@pytest.fixture(scope="session")
def gemma(cache):
    return cache.get("gemma-3-270m")


@pytest.fixture(scope="session")
def minilm(cache):
    """all-MiniLM-L6-v2 as a sentence-transformers embedder."""
    return cache.get("all-minilm-l6-v2", variant="st")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def serve_app():
    """serve_app(asgi_app) -> (base_url, server): a real uvicorn server on a free loopback port, in a
    thread of this process (so it shares the model cache); every server is stopped at session end."""
    import uvicorn

    started: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(app) -> tuple[str, "uvicorn.Server"]:
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                               access_log=False))
        thread = threading.Thread(target=server.run, daemon=True, name=f"test-server-{port}")
        thread.start()
        deadline = time.time() + 120
        while not server.started and time.time() < deadline:
            time.sleep(0.05)
        assert server.started, "the server did not start"
        started.append((server, thread))
        return f"http://127.0.0.1:{port}", server

    yield start
    for server, thread in started:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_url(cache, serve_app):
    """The whole lab (UI and API routes) served once per session."""
    from apps.server import create_app

    url, _server = serve_app(create_app(cache))
    return url


def sign_in(base: str, code: str, name: str, password: str) -> dict:
    """POST the lab's sign-in form; the session cookie it sets."""
    import httpx

    r = httpx.post(f"{base}/login", data={"code": code, "name": name, "password": password}, follow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    return {"llmlab_session": r.cookies["llmlab_session"]}


@pytest.fixture(scope="session")
def classroom_lab(cache, serve_app, tmp_path_factory):
    """The whole lab in classroom mode, once per session, with its own runs, votes, progress and
    indexes: a class "Attack 101" whose teacher, Ann and Bob are signed in. Returns
    {"base", "info" (join code, teacher password), "cookies": {who: cookie}, "tmp", "store", "env",
    "sign_in": sign_in}.
    Tests that reset a password put the new cookie back into "cookies"."""
    import secrets

    from apps.auth import Auth
    from apps.auth.store import ClassStore
    from apps.server import create_app

    tmp = tmp_path_factory.mktemp("classroom")
    env = {"LLMLAB_RUNS": tmp / "runs", "LLMLAB_ARENA_DB": tmp / "arena.db", "LLMLAB_PROGRESS_DB": tmp / "progress.db",
           "LLMLAB_INDEXES": tmp / "indexes"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update({k: str(v) for k, v in env.items()})
    try:
        store = ClassStore(tmp / "class.db")
        info = store.create_class("Attack 101")
        auth = Auth("classroom", store=store, secret=secrets.token_bytes(32))
        base, _server = serve_app(create_app(cache, auth))
    finally:  # the app has read its paths: other tests keep theirs
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    people = {"teacher": sign_in(base, info["code"], "teacher", info["teacher_password"]),
              "ann": sign_in(base, info["code"], "Ann", "ann-password"),
              "bob": sign_in(base, info["code"], "Bob", "bob-password")}
    yield {"base": base, "info": info, "cookies": people, "tmp": tmp, "store": store, "env": env, "sign_in": sign_in}
    from apps.security import owner, policy

    owner.use(None)  # apps.security back to its single-user, environment-only defaults
    policy.use(None)


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


def pytest_unconfigure(config):
    """Leave without running C++ static destructors.

    A UI event the browser walked away from (e.g. a perplexity run over several models) may still be
    computing in a server worker thread when the session ends; torch aborts the interpreter's normal
    shutdown under such a thread ("terminate called without an active exception", exit 134) after
    every test has passed. The report is printed by now, so exit with pytest's own status at once."""
    import sys

    session = getattr(config, "_llmlab_session", None)
    if session is None:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    shutil.rmtree(_STATE, ignore_errors=True)
    os._exit(int(session.exitstatus))


def pytest_sessionstart(session):
    session.config._llmlab_session = session


@pytest.fixture(scope="session")
def tokenizers():
    """{"smollm": …, "gemma": …}: the two offline models' tokenizers alone (no weights), once a session."""
    from transformers import AutoTokenizer

    from apps.models.loading import model_dir
    from apps.models.registry import resolve

    return {key: AutoTokenizer.from_pretrained(model_dir(resolve(name)))
            for key, name in (("smollm", "smollm2-135m-instruct"), ("gemma", "gemma-3-270m"))}


@pytest.fixture
def zerogpu_quota_spent(monkeypatch):
    """A ZeroGPU Space whose visitor has no quota left: the outside `spaces` package switched to ZeroGPU
    and its `spaces.GPU` refusing every call the way its client does (spaces.zero.client.schedule raises
    this gradio error) before anything runs. Functions declared at import must be declared again."""
    import inspect

    import spaces
    from spaces.config import Config
    from spaces.zero.gradio import error

    spent = "You have exceeded your free ZeroGPU quota (30s requested vs. 0s left). Try again in 13:59:02."

    def refusing_gpu(task=None, *, duration=None, size=None):
        def wrap(fn):
            def refuse(*args, **kwargs):
                raise error("ZeroGPU quota exceeded", spent)

            def refuse_stream(*args, **kwargs):
                yield from ()
                raise error("ZeroGPU quota exceeded", spent)

            return refuse_stream if inspect.isgeneratorfunction(fn) else refuse
        return wrap

    monkeypatch.setattr(Config, "zero_gpu", True)
    monkeypatch.setattr(spaces, "GPU", refusing_gpu)
    return spent
