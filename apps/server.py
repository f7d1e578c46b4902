"""The lab's web server: the Gradio UI at /, plus the routes other stages mount (API, static files).

Stages that serve HTTP routes add their module to MOUNTS; each exposes `mount(app: FastAPI)`.
"""
from __future__ import annotations

import importlib

from fastapi import FastAPI

MOUNTS: list[str] = [
    "apps.attention.web",
    "apps.serving.routes",
]


def create_app(cache=None, auth=None) -> FastAPI:
    """The lab's app. `auth`: an apps.auth.Auth (who is who; default from $LLMLAB_MODE, personal
    unless set). apps.security wraps it: the API-key gate, bounded bodies (413), the upload ledger
    every file-taking handler checks, and JSON errors instead of plain-text 500s."""
    from starlette.routing import Mount

    from apps.auth import Auth
    from apps.auth import web as auth_web
    from apps.security.files import UploadLedger
    from apps.security.middleware import SecurityLayer, json_errors
    from apps.shell import mount_ui

    auth = auth or Auth.from_env()
    app = FastAPI(title="LLM 0→1 Lab")
    auth_web.mount(app, auth)  # /login, /logout and the gate in front of the UI (classroom, spaces)
    for module_path in MOUNTS:
        importlib.import_module(module_path).mount(app)
    ledger = UploadLedger()
    auth.install()  # apps.security asks the signed-in user (uploads) and the class settings (allowlists)
    app = mount_ui(app, cache, ledger, auth)
    json_errors(app)
    for route in app.routes:  # the mounted Gradio app has its own error middleware
        if isinstance(route, Mount) and hasattr(route.app, "add_exception_handler"):
            json_errors(route.app)
    app.add_middleware(SecurityLayer, ledger=ledger)
    return app


def serve(host: str = "127.0.0.1", port: int = 7860) -> None:
    import uvicorn

    uvicorn.run(create_app(), host=host, port=port, log_level="warning")
