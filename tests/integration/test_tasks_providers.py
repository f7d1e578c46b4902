"""The provider client against the lab's own server (real client, real server), plus a scripted peer
that misbehaves like a paid provider on a bad day (429, 503, slow, garbage) in front of that server."""
from __future__ import annotations

import http.server
import logging
import threading
import time
from pathlib import Path

import httpx
import pytest

from apps.errors import LabError
from apps.tasks import batch, summarize
from apps.tasks.providers import ProviderConfig, chat, list_models, stream_chat

MSG = [{"role": "user", "content": "Name a fruit."}]


class ScriptedPeer:
    """A tiny HTTP server: answers the first requests from `script` (status codes, 'slow' or 'garbage'),
    then forwards to the real lab API. Stands in for an external provider we must not call in tests."""

    def __init__(self, upstream: str, script: list):
        self.script, self.seen = list(script), []
        peer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                step = peer.script.pop(0) if peer.script else "forward"
                peer.seen.append(step)
                if step == "slow":
                    time.sleep(3)
                    step = 503
                if step == "garbage":
                    self._send(200, b"<html>not json</html>", "application/json")
                elif step == "forward":
                    r = httpx.post(upstream + self.path[len("/v1"):], content=body, timeout=120,
                                   headers={"content-type": "application/json"})
                    self._send(r.status_code, r.content, "application/json")
                else:
                    self._send(step, b'{"error": {"message": "scripted failure", "type": "x"}}', "application/json",
                               {"Retry-After": "0"} if step == 429 else {})

            def _send(self, status, payload, ctype, headers=None):
                self.send_response(status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(payload)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


@pytest.fixture
def lab(lab_api, smollm):
    return ProviderConfig("lab", base_url=lab_api.base_url, model="smollm2-135m-instruct", backoff=0.01)


def test_chat_stream_and_local_agree(lab):
    text, usage = chat(lab, MSG, max_tokens=5, temperature=0)
    assert text and 0 < usage.completion_tokens <= 5 and usage.prompt_tokens > 0 and usage.retries == 0
    deltas = list(stream_chat(lab, MSG, max_tokens=5, temperature=0))
    assert "".join(d.delta for d in deltas) == text and deltas[-1].done
    assert deltas[-1].usage.completion_tokens == usage.completion_tokens
    local = ProviderConfig("local", model="smollm2-135m-instruct")
    assert chat(local, MSG, max_tokens=5, temperature=0)[0] == text  # no HTTP, same model, same answer
    assert "".join(d.delta for d in stream_chat(local, MSG, max_tokens=5, temperature=0)) == text
    assert "smollm2-135m-instruct" in list_models(lab)


def test_429_and_5xx_are_retried_with_backoff(lab):
    peer = ScriptedPeer(lab.url, [429, 503])
    try:
        cfg = ProviderConfig("custom", base_url=peer.url, model=lab.model, backoff=0.01)
        text, usage = chat(cfg, MSG, max_tokens=3, temperature=0)
        assert text and usage.retries == 2 and peer.seen == [429, 503, "forward"]
        peer.script = [500, 502]
        with pytest.raises(LabError) as exc:
            chat(ProviderConfig("custom", base_url=peer.url, model=lab.model, backoff=0.01, max_retries=1), MSG)
        assert exc.value.key == "tasks.err_server" and "502" in exc.value.message("en")
        assert "服务器出错" in exc.value.message("zh")
    finally:
        peer.close()


def test_timeout_and_malformed_and_unreachable_are_explained(lab):
    peer = ScriptedPeer(lab.url, ["slow", "garbage"])
    try:
        with pytest.raises(LabError) as exc:
            chat(ProviderConfig("custom", base_url=peer.url, model="m", timeout=0.5, max_retries=0), MSG)
        assert exc.value.key == "tasks.err_timeout" and "超时" in exc.value.message("zh")
        with pytest.raises(LabError) as exc:
            chat(ProviderConfig("custom", base_url=peer.url, model="m", max_retries=0), MSG)
        assert exc.value.key == "tasks.err_malformed"
    finally:
        peer.close()


def test_unreachable_unknown_model_and_bad_key(lab, lab_api_keyed):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    with pytest.raises(LabError) as exc:
        chat(ProviderConfig("custom", base_url=f"http://127.0.0.1:{dead}/v1", model="m", max_retries=0), MSG)
    assert exc.value.key == "tasks.err_connect"
    with pytest.raises(LabError) as exc:
        chat(ProviderConfig("lab", base_url=lab.url, model="no-such-model"), MSG)
    assert exc.value.key == "tasks.err_not_found"
    with pytest.raises(LabError) as exc:
        chat(ProviderConfig("lab", base_url=lab_api_keyed.base_url, api_key="sk-wrong"), MSG, max_tokens=2)
    assert exc.value.key == "tasks.err_auth" and "401" in exc.value.message("en")


def test_api_key_never_reaches_logs_or_disk(lab_api_keyed, smollm, tmp_path, capfd, caplog):
    """Run a whole batch with a key, every logger at DEBUG; the key must appear in no log line, no
    output, no result file and no file written under LLMLAB_HOME during the run."""
    from apps.storage import lab_home

    key = lab_api_keyed.api_key
    started = time.time() - 1
    caplog.set_level(logging.DEBUG)
    for name in ("openai", "httpx", "httpcore", "uvicorn", "uvicorn.access", "apps"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    cfg = ProviderConfig("lab", base_url=lab_api_keyed.base_url, api_key=key)
    items = batch.load_items(batch.sample_path(batch.SAMPLES["news_zh"]))[:2]
    result = summarize.run(cfg, items, length=10, lang="zh", max_tokens=3)
    assert len(result["rows"]) == 2 and not result["totals"]["errors"]
    out = batch.write_results(result["rows"], tmp_path / "rows.jsonl")
    batch.write_results(result["rows"], tmp_path / "rows.csv")

    logged = "\n".join(r.getMessage() + repr(r.args) for r in caplog.records)
    assert any("chat/completions" in r.getMessage() for r in caplog.records), "debug logging was not captured"
    assert key not in logged
    captured = capfd.readouterr()
    assert key not in captured.out + captured.err
    assert key not in str(result) and key not in out.read_text(encoding="utf-8")
    written = [p for root in (Path(lab_home()), tmp_path) for p in root.rglob("*")
               if p.is_file() and p.stat().st_mtime >= started and p.stat().st_size < 50 << 20]
    for path in written:
        assert key.encode() not in path.read_bytes(), path
