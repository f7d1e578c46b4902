"""Issue 13's leftovers in one page: the fine-tuning tables have real headers from the start (never
Gradio's "1 2 3") in either language, and a failure on the RAG and API tabs shows one toast whose
title is in the page's language (Gradio writes its own English "Error" there)."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

TOAST_TITLE = """e => ({drawn: getComputedStyle(e, '::before').content, hidden: getComputedStyle(e).fontSize === '0px'})"""


def _switch(page, name: str, lang: str):
    page.locator("#lang-switch label", has_text=name).click()
    page.wait_for_function(f"() => document.body.dataset.labLang === '{lang}'")


def _headers(page, elem_id: str) -> list[str]:
    return [h.strip() for h in page.locator(f"#{elem_id} thead th").all_inner_texts() if h.strip()]


def _toast_title(page, text: str) -> dict:
    """The title of the toast that says `text`, as drawn (its ::before) and whether Gradio's own is hidden."""
    toast = page.locator(".toast-body", has_text=text).first
    toast.wait_for(timeout=60_000)
    return toast.locator(".toast-title").evaluate(TOAST_TITLE)  # (it closes itself after 10 s)


def test_table_headers_and_toast_titles(page, open_tab):
    open_tab("finetune")
    page.locator("#ft-compare-out thead th").first.wait_for()
    assert _headers(page, "ft-compare-out") == ["prompt", "base", "tuned"]
    # the queue is redrawn by the tab's timer, in the page's language (a tick may still be in flight)
    page.wait_for_function("() => document.querySelector('#ft-queue thead').textContent.includes('state')")
    assert _headers(page, "ft-queue")[:3] == ["run", "state", "place in queue"]

    _switch(page, "中文", "zh")
    page.wait_for_function("() => document.querySelector('#ft-compare-out thead').textContent.includes('微调后')")
    assert _headers(page, "ft-compare-out") == ["提示词", "原模型", "微调后"]
    assert page.locator("#ft-estimate-plot").get_by_text("显存 / 内存估算（MB）").count() == 1

    # RAG: build from uploads with no file chosen
    page.locator("#tab-rag-button").click()
    page.locator("#rag-source label", has_text="上传文件").click()
    page.locator("#rag-build").click()
    assert _toast_title(page, "请先上传") == {"drawn": '"出错了"', "hidden": True}

    # API tab: a custom provider with no address
    page.locator("#tab-tasks-button").click()
    page.locator("#tasks-preset").click()
    page.get_by_role("option", name="自定义地址").click()
    page.wait_for_function("() => !document.querySelector('#tasks-base-url textarea, #tasks-base-url input').value")
    page.locator("#tasks-sum-run").click()
    assert _toast_title(page, "请填写接口地址") == {"drawn": '"出错了"', "hidden": True}

    _switch(page, "English", "en")
    page.locator("#tasks-sum-run").click()
    assert _toast_title(page, "Enter the API base URL") == {"drawn": '"Error"', "hidden": True}
    assert not page.blocked_requests, page.blocked_requests[:3]
