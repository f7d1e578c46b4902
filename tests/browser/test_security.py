"""With LLMLAB_API_KEY set, a browser enters the key once and then uses the lab as usual: the page's
own calls (queue, uploads, files) carry the signed cookie, while the API refuses anyone without it."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

KEY = "sk-lab-browser-4242"


def test_key_once_then_the_page_works(page, live_url, tmp_path, monkeypatch):
    monkeypatch.setenv("LLMLAB_API_KEY", KEY)
    refused = []
    page.on("response", lambda r: refused.append(r.url) if r.status == 401 else None)
    page.goto(live_url)
    page.locator("input[name=key]").fill(KEY)
    page.locator("button").click()
    page.wait_for_selector("#lang-switch")
    refused.clear()  # the key form itself answered 401; from here on nothing may
    page.locator("#tab-rag-button").click()
    page.locator("#rag-source label", has_text="Upload files").click()
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    page.locator("#rag-files input[type=file]").set_input_files(str(empty))  # upload route + ledger
    page.locator("#rag-build").click()
    page.wait_for_selector(":text(\"The file 'empty.txt' is empty\")", timeout=60_000)  # the handler read it
    assert not refused, refused
    assert "key=" not in page.url  # the key left the address bar
