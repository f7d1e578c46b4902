"""A learner in a real browser: chat, watch the reply stream, open the token view, switch language."""
import pytest

pytestmark = pytest.mark.browser


def test_chat_streams_and_token_view_and_language(page, open_tab, smollm):
    open_tab("playground")
    # An English browser gets English: Accept-Language picks the first screen's language.
    page.locator("#tab-playground-button", has_text="Playground").wait_for()
    page.locator("#pg-input textarea").fill("Tell me about Paris in two sentences.")
    page.locator("#pg-send").click()

    # The reply streams: its text is seen growing before the stats line announces the end.
    bot = page.locator("#pg-chat [data-testid='bot']").last
    bot.wait_for(timeout=120_000)
    lengths = set()
    for _ in range(1200):  # the stats line may first say where we are in the queue; "tokens/s" ends it
        if "tokens/s" in page.locator("#pg-stats").inner_text():
            break
        lengths.add(len(bot.inner_text().strip()))
        page.wait_for_timeout(50)
    lengths.discard(0)
    page.locator("#pg-stats").get_by_text("tokens/s").wait_for(timeout=120_000)
    assert len(lengths) >= 2, f"reply did not stream: saw lengths {lengths}"
    assert bot.inner_text().strip()

    page.locator("#pg-tokens-tab-button").click()
    page.locator("#pg-prompt-tokens .tok").first.wait_for()
    assert page.locator("#pg-prompt-tokens .tok").count() > 10  # chat template + question
    reply_tokens = page.locator("#pg-reply-tokens .tok")
    assert reply_tokens.count() >= 1
    assert "p=" in reply_tokens.first.get_attribute("title")  # alternatives on hover
    assert "tokens" in page.locator("#pg-prompt-count").inner_text()

    page.locator("#lang-switch label").filter(has_text="中文").click()
    page.locator("#pg-send").get_by_text("发送").wait_for()
    assert "模型体验" in page.locator("#tab-playground-button").inner_text()
    assert not page.blocked_requests, f"the page tried to leave the machine: {page.blocked_requests[:3]}"


def test_empty_message_shows_an_error(page, open_tab):
    open_tab("playground")
    page.locator("#pg-send", has_text="Send").wait_for()
    page.locator("#pg-send").click()
    page.get_by_text("The prompt is empty").first.wait_for(timeout=30_000)


def test_enter_sends_and_clear_empties_the_token_view(page, open_tab, smollm, request, monkeypatch):
    open_tab("playground")
    page.locator("#pg-send", has_text="Send").wait_for()
    number = page.locator("#pg-max-new input[type=number]")
    number.fill("6")
    number.press("Tab")
    page.get_by_label("Sample (off = greedy)").uncheck()  # greedy, with the default penalty (1 = off)
    box = page.locator("#pg-input textarea")
    box.fill("Say hello.")
    box.press("Enter")  # as the placeholder promises
    page.locator("#pg-stats").get_by_text("tokens/s").wait_for(timeout=120_000)
    assert box.input_value() == ""
    assert page.locator("#pg-chat [data-testid='user']").count() == 1
    page.locator("#pg-tokens-tab-button").click()
    page.locator("#pg-prompt-tokens .tok").first.wait_for()
    assert page.locator("#pg-reply-tokens .tok").count() >= 1
    assert "not the model's own most likely" not in page.locator("#pg-token-note").inner_text()  # greedy is greedy
    # the chart's axis covers the bars drawn: one label per reply token, none negative
    page.locator("#pg-prob-plot").get_by_text("position and token").first.wait_for(timeout=30_000)
    assert "-5" not in page.locator("#pg-prob-plot").inner_text()

    # On a ZeroGPU Space whose visitor's quota is spent, the reply comes from the CPU and says so once.
    request.getfixturevalue("zerogpu_quota_spent")  # the outside `spaces` package refuses from now on
    from apps.space import zerogpu

    monkeypatch.setattr(zerogpu, "_lent", zerogpu.lend())  # the server's reply function under that `spaces`
    page.locator("#pg-regen").click()
    page.wait_for_function("() => { const s = document.querySelector('#pg-stats').innerText;"
                           " return s.includes('comes from the CPU') && s.includes('tokens/s'); }", timeout=120_000)
    assert page.get_by_text("this reply comes from the CPU").count() >= 2  # the toast, and the stats line
    assert page.locator("#pg-chat [data-testid='bot']").last.inner_text().strip()

    page.locator("#pg-clear").click()
    page.wait_for_function("() => !document.querySelector('#pg-prompt-tokens .tok')", timeout=30_000)
    assert page.locator("#pg-reply-tokens .tok").count() == 0
    assert page.locator("#pg-chat [data-testid='user']").count() == 0

