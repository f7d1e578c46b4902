"""One live lab for the whole browser session, and Debian's chromium driven by Playwright.

The app runs in this process on a free loopback port (so it shares the model cache with the other
tests); every request the page makes outside 127.0.0.1 is aborted, which proves the UI needs no CDN.
"""
from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from urllib.parse import urlparse

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_url(cache):
    import uvicorn

    from apps.server import create_app

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(cache), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 120
    while not server.started and time.time() < deadline:
        time.sleep(0.2)
    assert server.started, "the lab did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian chromium is missing: `make test` installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser, live_url):
    """A fresh page (own cookies, English first) whose requests off this machine are blocked."""
    context = browser.new_context(locale="en-US", extra_http_headers={"Accept-Language": "en-US,en"},
                                  viewport={"width": 1400, "height": 1000})
    blocked: list[str] = []

    def guard(route):
        host = urlparse(route.request.url).hostname or ""
        if host in ("127.0.0.1", "localhost") or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    pg = context.new_page()
    pg.blocked_requests = blocked
    pg.set_default_timeout(60_000)
    yield pg
    context.close()


def open_tab(page, live_url, tab_key: str):
    """Open the lab and click the tab whose element id is tab-<key>."""
    page.goto(live_url)
    page.wait_for_selector("#lang-switch")
    page.locator(f"button[id='tab-{tab_key}-button'], [id='tab-{tab_key}-button']").first.click()
