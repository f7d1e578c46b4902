"""The Attention tab in a real browser with the network off: bertviz draws, the heatmap appears."""
from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_bertviz_and_heatmap_render_offline(page, open_tab):
    open_tab("attention")
    page.locator("#attn-model input").fill("all-minilm-l6-v2")
    page.locator("#attn-model input").press("Enter")
    page.locator("#attn-text textarea").fill("The cat sat on the mat.")
    page.locator("#attn-run").click()
    page.wait_for_selector("#attn-info :text('6 layers')", timeout=120_000)

    # head view: bertviz drew its SVG inside the iframe, with scripts served by the lab
    frame = page.frame_locator("#attn-bertviz iframe")
    frame.locator("svg").first.wait_for(state="attached")
    assert frame.locator("svg text").count() >= 2 * 9  # every token, left and right column
    assert frame.locator(".llmlab-missing-js").count() == 0

    # model view: one thumbnail per layer and head
    page.locator("#attn-bv-view label", has_text="model view").click()
    frame = page.frame_locator("#attn-bertviz iframe")
    frame.locator("svg").first.wait_for(state="attached")
    frame.locator("svg line").nth(6 * 12).wait_for(state="attached")

    # the native heatmap
    page.locator("#attn-tab-maps-button").click()
    page.locator("#attn-heatmap img, #attn-heatmap svg").first.wait_for(state="visible")
    page.locator("#attn-summary img, #attn-summary svg").first.wait_for(state="visible")

    # click a token: where it looks
    page.locator("#attn-tab-look-button").click()
    page.locator("#attn-tokens").get_by_text("cat", exact=True).first.click()
    page.wait_for_selector("#attn-look-table :text('strongest targets')")
    assert not [u for u in page.blocked_requests if "vendor" in u or "cdn" in u], page.blocked_requests
