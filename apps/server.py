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


def create_app(cache=None) -> FastAPI:
    from apps.shell import mount_ui

    app = FastAPI(title="LLM 0→1 Lab")
    for module_path in MOUNTS:
        importlib.import_module(module_path).mount(app)
    return mount_ui(app, cache)


def serve(host: str = "127.0.0.1", port: int = 7860) -> None:
    import uvicorn

    uvicorn.run(create_app(), host=host, port=port, log_level="warning")
