"""Start an exported app the way its README says (`python app.py`, with some venv's python) and hand
back a gradio_client.Client once it answers; used by the export tests and bench/export_install.py.
A harness, not a capability of the lab: it lives here so apps/ stays importable without Gradio.

    with serve_app(venv / "bin" / "python", "my-app", env) as client:
        client.predict("Hi", api_name="/chat")
"""
from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_app(python: str | Path, folder: str | Path, env: dict, timeout_s: float = 240):
    """Run app.py in `folder` on a free port; yield a Client once it answers; stop it afterwards.
    AssertionError with the app's last output if it exits or does not answer within timeout_s."""
    from gradio_client import Client

    port = free_port()
    app = subprocess.Popen([str(python), "app.py"], cwd=folder, env={**env, "GRADIO_SERVER_PORT": str(port)},
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, client = time.time() + timeout_s, None
        while client is None and time.time() < deadline:
            assert app.poll() is None, app.stdout.read()[-3000:]
            try:
                client = Client(f"http://127.0.0.1:{port}/", verbose=False)
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(1)
        assert client is not None, "the exported app did not start"
        yield client
    finally:
        app.terminate()
        try:
            app.wait(timeout=20)
        except subprocess.TimeoutExpired:
            app.kill()
