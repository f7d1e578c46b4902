"""Debian's chromium driven by Playwright, against the one live lab of the session (tests/conftest.py).

Every request the page makes outside 127.0.0.1 is aborted, which proves the UI needs no CDN.
"""
from __future__ import annotations

import os
import shutil
import time
from urllib.parse import urlparse

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


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


def offline_context(browser):
    """A browser context (own cookies, English first, 1920 px so every tab shows) whose requests off
    this machine are blocked and listed in `context.blocked`."""
    context = browser.new_context(locale="en-US", extra_http_headers={"Accept-Language": "en-US,en"},
                                  viewport={"width": 1920, "height": 1000})
    blocked: list[str] = []

    def guard(route):
        host = urlparse(route.request.url).hostname or ""
        if host in ("127.0.0.1", "localhost") or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    context.blocked = blocked
    # Gradio calls in flight (not the heartbeat, which stays open for the page's life): wait_quiet
    # waits until none is, so page-load events and the follow-ups of a switch have landed.
    flying: set = set()

    def counted(request):
        return "/gradio_api/" in request.url and "/heartbeat" not in request.url

    context.on("request", lambda r: flying.add(id(r)) if counted(r) else None)
    context.on("requestfinished", lambda r: flying.discard(id(r)))
    context.on("requestfailed", lambda r: flying.discard(id(r)))
    context.flying = flying
    # A busy 2-core CI host: a language switch re-renders ~470 outputs and can take tens of seconds.
    context.set_default_timeout(120_000)
    return context


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """When a browser test fails, its report also says what the page showed: the toasts on screen
    (a handler's refusal), the language that landed and the Gradio calls still in flight. A CI
    failure otherwise only says which locator never appeared."""
    report = (yield).get_result()
    pg = item.funcargs.get("page") if report.when == "call" and report.failed else None
    if pg is None or pg.is_closed():
        return
    try:
        seen = pg.evaluate("""() => ({lang: document.body.dataset.labLang || null,
            toasts: [...document.querySelectorAll('.toast-body')].map((e) => e.innerText.trim())})""")
        seen["calls_in_flight"] = len(pg.context.flying)
        report.sections.append(("what the page showed", repr(seen)))
    except Exception as exc:  # noqa: BLE001 - a page that cannot answer: the report says so
        report.sections.append(("what the page showed", f"(page did not answer: {exc})"))


@pytest.fixture
def new_context(browser):
    """new_context() -> an offline_context of its own (several users in one test)."""
    return lambda: offline_context(browser)


@pytest.fixture
def page(browser, live_url):
    """A fresh page (own cookies, English first) whose requests off this machine are blocked."""
    context = offline_context(browser)
    blocked = context.blocked
    pg = context.new_page()
    pg.blocked_requests = blocked
    pg.set_default_timeout(120_000)
    yield pg
    context.close()


def wait_lang(page, lang: str):
    """Until the language switch to `lang` has landed (the shell marks body[data-lab-lang]) and the
    events it and the page load set off are answered."""
    page.wait_for_function(f"() => document.body.dataset.labLang === '{lang}'")
    wait_quiet(page)


def wait_quiet(page, quiet_ms: int = 500, timeout_s: float = 120):
    """Until no Gradio call of this page's context has been in flight for `quiet_ms` (the finetune
    and pretrain timers tick every 1.5 s, so a short quiet window is enough and still comes)."""
    flying = page.context.flying
    deadline, quiet = time.monotonic() + timeout_s, 0
    while quiet < quiet_ms:
        page.wait_for_timeout(100)
        quiet = quiet + 100 if not flying else 0
        if time.monotonic() > deadline:
            raise TimeoutError(f"Gradio calls still in flight after {timeout_s} s")


@pytest.fixture
def open_tab(page, live_url):
    """open_tab("playground"): load the lab in `page` and click the tab whose element id is tab-<key>."""

    def go(tab_key: str):
        page.goto(live_url)
        page.wait_for_selector("#lang-switch")
        # The first screen switches to the browser's language (English here) and re-renders every tab:
        # typing before that lands would be overwritten on a slow host (the arena's pool box did).
        wait_lang(page, "en")
        page.locator(f"#tab-{tab_key}-button").click()
        return page

    return go
