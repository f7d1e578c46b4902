"""A learner in the task lab: keys stay in their own session; classify headlines by embedding and
zero-shot through the lab's own /v1 API (mounted on the same server), with metrics and a plot."""
import pytest

pytestmark = pytest.mark.browser

SECRET = "sk-browser-SECRET-7777"


def _open(page, live_url):
    page.goto(live_url)
    page.wait_for_selector("#lang-switch")
    page.locator("#tab-tasks-button").click()
    page.locator("#tasks-key-status").wait_for()
    return page


def test_key_is_per_session_and_never_shown_again(browser, live_url, page):
    a = _open(page, live_url)
    a.locator("#tasks-key input").fill(SECRET)
    a.locator("#tasks-key input").press("Enter")
    a.locator("#tasks-key-status").get_by_text("…7777").wait_for(timeout=30_000)
    assert a.locator("#tasks-key input").input_value() == ""  # the box is emptied at once
    assert SECRET not in a.content()

    other = browser.new_context(locale="en-US", extra_http_headers={"Accept-Language": "en-US,en"})
    try:
        b = _open(other.new_page(), live_url)
        b.locator("#tasks-key-status").get_by_text("No key needed").wait_for(timeout=30_000)
        assert "7777" not in b.locator("#tasks-key-status").inner_text()
        assert SECRET not in b.content()
    finally:
        other.close()
    # the first session still has its key after the second came and went
    assert "…7777" in a.locator("#tasks-key-status").inner_text()


def test_classify_by_embedding_then_zero_shot_through_own_api(page, live_url, minilm, smollm):
    p = _open(page, live_url)
    p.locator("#tasks-cls-tab-button").click()
    p.locator("#tasks-cls-run").click()
    p.locator("#tasks-cls-metrics").get_by_text("Accuracy").wait_for(timeout=120_000)
    assert "30 test items" in p.locator("#tasks-cls-metrics").inner_text()
    p.locator("#tasks-cls-plot img, #tasks-cls-plot svg, #tasks-cls-plot canvas").first.wait_for(timeout=60_000)
    p.locator("#tasks-cls-file a").first.wait_for(timeout=30_000)

    # zero-shot on two test items, answered by this very server's OpenAI-compatible routes: the base
    # URL box already holds this server's real address (a free port here, not 7860), nothing typed
    assert p.locator("#tasks-base-url textarea, #tasks-base-url input").first.input_value() == f"{live_url}/v1"
    p.locator("#tasks-cls-method label").filter(has_text="zero-shot").click()
    limit = p.locator("#tasks-cls-limit input[type=number]")
    limit.fill("2")
    limit.press("Tab")
    p.locator("#tasks-cls-run").click()
    p.locator("#tasks-cls-metrics").get_by_text("2 test items").wait_for(timeout=240_000)
    assert "estimated cost: free (local)" in p.locator("#tasks-cls-metrics").inner_text()
    assert not p.blocked_requests, p.blocked_requests[:3]


def test_own_api_address_on_this_port_and_key_sources(page, live_url):
    """The lab here listens on a free port, not 7860: the page shows that address and the snippets
    call it (the zero-shot classify test runs through it); each preset says where its key comes from."""
    p = _open(page, live_url)
    base = p.locator("#tasks-base-url textarea, #tasks-base-url input").first
    p.wait_for_function("u => [...document.querySelectorAll('#tasks-base-url textarea, #tasks-base-url input')]"
                        ".some(e => e.value === u)", arg=f"{live_url}/v1", timeout=30_000)
    assert base.input_value() == f"{live_url}/v1" and ":7860" not in base.input_value()
    p.locator("#tasks-snippets").get_by_text("Call this lab's /v1 API").click()
    assert f"curl {live_url}/v1/chat/completions" in p.locator("#tasks-snippet-curl").inner_text()
    assert f'base_url="{live_url}/v1"' in p.locator("#tasks-snippet-python").inner_text()
    p.locator("#tasks-preset").click()
    p.get_by_role("option", name="DeepSeek").click()
    p.locator("#tasks-key-source").get_by_text("platform.deepseek.com").wait_for(timeout=30_000)
    assert "DEEPSEEK_API_KEY" in p.locator("#tasks-key-source").inner_text()
    p.locator("#tasks-preset").click()
    p.get_by_role("option", name="This lab's server").click()
    p.wait_for_function("u => [...document.querySelectorAll('#tasks-base-url textarea, #tasks-base-url input')]"
                        ".some(e => e.value === u)", arg=f"{live_url}/v1", timeout=30_000)
