"""Integration fixtures: the lab's own OpenAI-compatible server, live on a loopback port.

`lab_api` is a real uvicorn server (apps.serving.routes.create_app) in a thread of the test process,
sharing the session's model cache, so every stage can test its API clients against a real peer:

    def test_x(lab_api):
        OpenAI(base_url=lab_api.base_url, api_key="EMPTY").chat.completions.create(...)
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest


@dataclass
class LiveAPI:
    base_url: str  # http://127.0.0.1:PORT/v1
    api_key: str | None
    server: object


def start_api(cache, serve_app, api_key: str | None = None) -> LiveAPI:
    from apps.serving.routes import create_app

    url, server = serve_app(create_app(cache, api_key=api_key))
    return LiveAPI(f"{url}/v1", api_key, server)


@pytest.fixture(scope="session")
def lab_api(cache, serve_app):
    """The lab's API server without a key."""
    return start_api(cache, serve_app)


@pytest.fixture(scope="session")
def lab_api_keyed(cache, serve_app):
    """The lab's API server requiring a bearer key (api.api_key)."""
    return start_api(cache, serve_app, api_key="sk-lab-test-0123456789abcdef")


@pytest.fixture(scope="session")
def start_lab_api(cache, serve_app):
    """A factory for extra servers (own key): api = start_lab_api(api_key="...").
    serve_app stops them all at session end."""
    return lambda **kwargs: start_api(cache, serve_app, **kwargs)
