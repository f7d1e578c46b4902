"""The Space's app file, run as Spaces run it (SPACE_ID, GRADIO_SERVER_NAME/PORT set), serves the lab
offline: the UI answers, /v1 stays closed without a key, and the log says state is not durable."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_app_file_serves_the_lab_as_on_a_space(tmp_path):
    port = _port()
    env = {**os.environ, "SPACE_ID": "me/llm-lab", "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "HF_HUB_OFFLINE": "1", "LLMLAB_HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}
    env.pop("LLMLAB_MODE", None)
    env.pop("LLMLAB_API_KEY", None)
    log = tmp_path / "space.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "spaces/app.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        base, page = f"http://127.0.0.1:{port}", None
        visitor = httpx.Client(base_url=base, follow_redirects=True, timeout=30)  # keeps the guest cookie
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                page = visitor.get("/")
                break
            except httpx.TransportError:
                time.sleep(1)
        text = log.read_text()
        assert page is not None and page.status_code == 200, text[-3000:]
        assert "gradio" in page.text.lower()
        config = visitor.get("/config").text  # the page's components and their first values
        assert "space-notice" in config and ("持久存储" in config or "durable storage" in config)
        assert "lost on restart" in text and str(tmp_path / "home") in text
        closed = httpx.get(f"{base}/v1/models", timeout=10)
        assert closed.status_code == 403 and closed.json()["error"]["code"] == "api_closed"
        assert "LLMLAB_API_KEY" in closed.json()["error"]["message"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
