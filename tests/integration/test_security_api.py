"""No plain-text 500 and bounded bodies, replayed against real servers through the official `openai`
client and raw httpx: each bad request gets a JSON error with a proper status, and the same client
(the same keep-alive connection) keeps working afterwards."""
from __future__ import annotations

import httpx
import openai
import pytest
from fastapi import FastAPI
from openai import OpenAI

CHAT = {"model": "smollm2-135m-instruct", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2}


def local_port(response: httpx.Response) -> int:
    """The client-side port of the connection a response came on: equal ports = one kept-alive connection."""
    return response.extensions["network_stream"].get_extra_info("socket").getsockname()[1]


def _error(response: httpx.Response) -> dict:
    assert response.headers["content-type"].startswith("application/json"), response.text[:200]
    return response.json()["error"]


def test_seed_above_int64_is_a_400_and_the_client_keeps_working(lab_api):
    client = OpenAI(base_url=lab_api.base_url, api_key="EMPTY", max_retries=0)
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(**CHAT, seed=2**63)
    assert err.value.status_code == 400 and err.value.body["param"] == "seed"
    assert client.models.list().data  # the same client, next request


@pytest.mark.parametrize("body,why", [
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"model": "smollm2-135m-instruct", "messages": [', "could not parse"),
    (b'{"model": "x", "seed": ' + b"9" * 5000 + b"}", "could not parse"),  # more digits than Python parses
    (b"\xff\xfe not utf-8", "could not parse"),
])
def test_malformed_bodies_are_openai_errors_on_one_connection(lab_api, body, why):
    with httpx.Client(base_url=lab_api.base_url, timeout=30) as http:
        bad = http.post("/chat/completions", content=body, headers={"content-type": "application/json"})
        assert bad.status_code == 400 and why in _error(bad)["message"]
        after = http.get("/models")
        assert after.status_code == 200 and local_port(after) == local_port(bad)  # same connection, still usable


def test_bodies_above_the_limit_get_413(lab_api, monkeypatch):
    monkeypatch.setenv("LLMLAB_MAX_BODY_MB", "0.5")
    with httpx.Client(base_url=lab_api.base_url, timeout=30) as http:
        big = http.post("/chat/completions", content=b"x" * (1 << 20))
        err = _error(big)
        assert big.status_code == 413 and err["code"] == "request_too_large" and "0.5 MB" in err["message"]

        def chunks():  # no Content-Length: counted while it streams
            for _ in range(64):
                yield b"y" * (16 << 10)
        streamed = http.post("/chat/completions", content=chunks())
        assert streamed.status_code == 413 and _error(streamed)["code"] == "request_too_large"
        page = http.post("/chat/completions", content=b"x" * (1 << 20), headers={"Accept": "text/html"})
        assert page.status_code == 413 and "<p>" in page.text
        assert http.get("/models").status_code == 200


def test_upload_above_the_limit_gets_413_and_leaves_nothing(live_url, monkeypatch):
    from gradio.utils import get_upload_folder

    monkeypatch.setenv("LLMLAB_MAX_UPLOAD_MB", "0.25")
    name = "too-big-upload-7f3a.jsonl"
    with httpx.Client(base_url=live_url, timeout=30) as http:
        r = http.post("/gradio_api/upload", files={"files": (name, b"z" * (3 << 20))})
        assert r.status_code == 413 and "0.25 MB" in _error(r)["message"]
    from pathlib import Path

    assert not list(Path(get_upload_folder()).rglob(name))


def test_an_exception_in_any_route_is_json_and_the_server_keeps_serving(serve_app):
    """The lab's security layer around an app with a route that fails (as any handler may)."""
    from apps.security.files import UploadLedger
    from apps.security.middleware import SecurityLayer, json_errors

    app = FastAPI()

    @app.get("/boom")
    def boom():
        raise RuntimeError("handler bug")

    @app.get("/ok")
    def ok():
        return {"ok": True}

    json_errors(app)
    app.add_middleware(SecurityLayer, ledger=UploadLedger())
    url, _ = serve_app(app)
    with httpx.Client(base_url=url, timeout=10) as http:
        r = http.get("/boom")
        assert r.status_code == 500 and "RuntimeError" in _error(r)["message"]
        assert _error(r)["type"] == "server_error" and "handler bug" not in r.text
        after = http.get("/ok")
        assert after.json() == {"ok": True} and local_port(after) == local_port(r)


def test_gradio_routes_never_answer_plain_text(live_url):
    """Gradio's own routes fail too (an unknown fn_index is a KeyError inside Gradio): JSON, and the
    connection survives."""
    with httpx.Client(base_url=live_url, timeout=30) as http:
        for body in (b'{"data": [1], "fn_index": 99999, "session_hash": "x"}', b"[" * 100_000 + b"]" * 100_000):
            r = http.post("/gradio_api/queue/join", content=body, headers={"content-type": "application/json"})
            assert r.status_code >= 400 and r.headers["content-type"].startswith("application/json"), r.text[:200]
            after = http.get("/gradio_api/info")
            assert after.status_code == 200 and local_port(after) == local_port(r)


def test_loopback_provider_free_in_personal_mode_refused_in_classroom(lab_api, monkeypatch):
    """A learner's own server on localhost (here: the lab's API) works in personal mode; on a
    classroom server the same base URL is refused with a clear message unless the teacher allows it."""
    from apps.errors import LabError
    from apps.tasks.providers import ProviderConfig, chat

    cfg = ProviderConfig("custom", base_url=lab_api.base_url, model="smollm2-135m-instruct", max_retries=0)
    hi = [{"role": "user", "content": "Hi"}]
    monkeypatch.setenv("LLMLAB_MODE", "personal")
    assert chat(cfg, hi, max_tokens=2, temperature=0)[1].completion_tokens >= 1
    monkeypatch.setenv("LLMLAB_MODE", "classroom")
    with pytest.raises(LabError) as err:
        chat(cfg, hi, max_tokens=2)
    assert "loopback" in err.value.message("en") and "127.0.0.1" in err.value.message("en")
    monkeypatch.setenv("LLMLAB_URL_ALLOWLIST", lab_api.base_url)  # the teacher allowed it
    assert chat(cfg, hi, max_tokens=2, temperature=0)[1].completion_tokens >= 1
