"""Shared fixtures: each real model is loaded once per test session, from the one process cache."""
from __future__ import annotations

import os
import socket
import threading
import time

import pytest
import torch

torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))


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
    os._exit(int(session.exitstatus))


def pytest_sessionstart(session):
    session.config._llmlab_session = session
