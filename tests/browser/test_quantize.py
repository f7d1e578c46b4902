"""A learner in the quantisation tab: one matrix by hand, the shipped GGUF's tensor types, and the KV
cache's size measured against its formula, all from the page."""
import re

import pytest

pytestmark = pytest.mark.browser


def test_by_hand_gguf_types_and_kv_size(page, open_tab):
    open_tab("quantize")
    page.locator("#q-byhand-run").click()
    summary = page.locator("#q-byhand-summary")
    summary.get_by_text("integer levels used").wait_for(timeout=120_000)
    assert "down_proj" in summary.inner_text() and "MSE" in summary.inner_text()
    table = page.locator("#q-byhand-table")
    assert "per-channel" in table.inner_text() or "channel" in table.inner_text()

    page.get_by_text("What a GGUF file stores").click()  # a closed accordion
    page.locator("#q-gguf-run").click()
    gguf = page.locator("#q-gguf-summary")
    gguf.get_by_text("bits per weight").wait_for(timeout=60_000)
    assert re.search(r"\bQ\d_", page.locator("#q-gguf-table").inner_text())

    page.get_by_text("Inference tricks, each measured").click()
    page.locator("#q-kvsize-run").click()
    kv = page.locator("#q-tricks-summary")
    kv.get_by_text("the formula says").wait_for(timeout=60_000)
    measured, formula = re.search(r"holds (\d+) bytes; the formula says (\d+)", kv.inner_text()).groups()
    assert int(measured) == int(formula) > 0
    assert not page.blocked_requests
