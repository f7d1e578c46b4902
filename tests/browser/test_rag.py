"""The RAG tab in a real browser with the network off: build the demo index, retrieve, answer,
see the prompt, latency and map; a bad upload shows a clear message; the page switches to Chinese."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from rag.answer import citation_report
from tests.browser.conftest import wait_lang

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_build_retrieve_answer(page, open_tab):
    open_tab("rag")
    page.locator("#rag-demo-lang label", has_text="English").click()
    page.locator("#rag-index-type label", has_text="hnsw").click()
    page.locator("#rag-build").click()
    page.wait_for_selector("#rag-status :text('Index built')", timeout=180_000)
    assert "hnsw" in page.locator("#rag-status").inner_text()
    page.locator("#rag-map img, #rag-map svg").first.wait_for(state="visible")
    # the status already on screen follows a language switch (kept language-neutral, re-rendered)
    page.locator("#lang-switch label", has_text="中文").click()
    page.wait_for_selector("#rag-status :text('已建索引')")
    page.locator("#lang-switch label", has_text="English").click()
    page.wait_for_selector("#rag-status :text('Index built')")

    page.locator("#rag-question textarea").fill("Why does grouped-query attention save memory?")
    page.locator("#rag-search-only").click()
    first = page.locator("#rag-hits .rag-hit").first
    first.wait_for(state="visible")
    assert page.locator("#rag-hits .rag-hit").count() == 5
    assert "02-attention.en.md" in first.inner_text() and first.locator("mark").count() > 0

    number = page.locator("#rag-max-tokens input[type=number]")
    number.fill("16")
    number.press("Enter")
    page.locator("#rag-ask").click()
    page.wait_for_selector("#rag-answer :text('Cited'), #rag-answer :text('cites no source')", timeout=180_000)
    answer, _, footer = page.locator("#rag-answer").inner_text().partition("Cited:")
    cited = re.findall(r"\[(\d+)\]", footer.splitlines()[0]) if footer else []
    # only what the answer holds, and only chunks that were retrieved (k = 5)
    assert [int(n) for n in cited] == citation_report(answer, 5).cited, (answer, footer)
    assert all(f"[{n}]" in answer or f"{n}]" in answer or f"【{n}】" in answer for n in cited)
    page.locator("#rag-latency img, #rag-latency svg").first.wait_for(state="visible")
    page.get_by_text("Assembled prompt (the text the model reads)").click()
    assert "[1] (" in page.locator("#rag-prompt").inner_text()
    # the hit cards and the answer's footer already on screen follow a language switch too
    page.locator("#lang-switch label", has_text="中文").click()
    wait_lang(page, "zh")
    expect(first).to_contain_text("得分")
    expect(page.locator("#rag-answer")).to_contain_text("引用：" if cited else "回答里没有引用编号")
    assert not page.blocked_requests, page.blocked_requests


def test_bad_upload_and_chinese_labels(page, open_tab, tmp_path):
    open_tab("rag")
    page.locator("#rag-source label", has_text="Upload files").click()
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    page.locator("#rag-files input[type=file]").set_input_files(str(empty))
    page.locator("#rag-build").click()
    page.wait_for_selector(":text(\"The file 'empty.txt' is empty\")", timeout=60_000)
    page.locator("#lang-switch label", has_text="中文").click()
    page.wait_for_selector("#rag-build:text('建立索引')")
    assert page.locator("#rag-source label", has_text="上传文件").count() == 1
