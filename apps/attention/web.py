"""HTTP routes of the Attention tab: bertviz's JavaScript, served from the copies fetched at install.

Mounted by `apps/server.py` (MOUNTS) at /attention/vendor. The bertviz pages refer to it with a
relative URL, so the lab also works behind a path prefix.
"""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from apps.attention.assets import URL_PREFIX, VENDOR_DIR


def mount(app: FastAPI) -> None:
    # check_dir=False: without the files (install not run) the lab still starts; the page says why
    app.mount(f"/{URL_PREFIX}", StaticFiles(directory=VENDOR_DIR, check_dir=False), name="attention-vendor")
