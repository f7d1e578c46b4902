"""Integration fixtures: the lab's own OpenAI-compatible server, live on a loopback port.

`lab_api` is a real uvicorn server (apps.serving.routes.create_app) in a thread of the test process,
sharing the session's model cache, so every stage can test its API clients against a real peer:

    def test_x(lab_api):
        OpenAI(base_url=lab_api.base_url, api_key="EMPTY").chat.completions.create(...)
"""
from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import pytest


@dataclass
class LiveAPI:
    base_url: str  # http://127.0.0.1:PORT/v1
    api_key: str | None
    server: object


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_api(cache, api_key: str | None = None, max_pending: int | None = None) -> LiveAPI:
    import uvicorn

    from apps.serving.routes import create_app

    port = free_port()
    config = uvicorn.Config(create_app(cache, api_key=api_key, max_pending=max_pending), host="127.0.0.1",
                            port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, daemon=True, name=f"lab-api-{port}").start()
    deadline = time.time() + 60
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "the lab API server did not start"
    return LiveAPI(f"http://127.0.0.1:{port}/v1", api_key, server)


def stop_api(api: LiveAPI) -> None:
    api.server.should_exit = True


@pytest.fixture(scope="session")
def lab_api(cache):
    """The lab's API server without a key."""
    api = start_api(cache)
    yield api
    stop_api(api)


@pytest.fixture(scope="session")
def lab_api_keyed(cache):
    """The lab's API server requiring a bearer key (api.api_key)."""
    api = start_api(cache, api_key="sk-lab-test-0123456789abcdef")
    yield api
    stop_api(api)


@pytest.fixture(scope="session")
def start_lab_api(cache):
    """A factory for extra servers (own key or queue size): api = start_lab_api(max_pending=1); stop_api(api)."""
    started: list[LiveAPI] = []

    def start(**kwargs) -> LiveAPI:
        api = start_api(cache, **kwargs)
        started.append(api)
        return api

    yield start
    for api in started:
        stop_api(api)
