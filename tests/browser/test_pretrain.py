"""A learner in the pretraining tab: clean and deduplicate the lessons, then size a model before training."""
import pytest

pytestmark = pytest.mark.browser


def test_clean_corpus_and_estimate_a_model(page, open_tab):
    open_tab("pretrain")
    ids = page.locator("button[id^='tab-'][id$='-button']").evaluate_all("els => els.map(e => e.id)")
    assert ids[:3] == ["tab-course-button", "tab-pretrain-button", "tab-playground-button"], ids
    page.locator("#pt-prepare").click()
    out = page.locator("#pt-data-out")
    out.get_by_text("paragraphs after cleaning").wait_for(timeout=120_000)
    assert "near duplicates" in out.inner_text()

    page.locator("#pt-preset input").fill("micro")
    page.keyboard.press("Enter")
    page.locator("#pt-estimate").click()
    est = page.locator("#pt-est-out")
    est.get_by_text("parameters").first.wait_for(timeout=60_000)
    assert "FLOPs per training token" in est.inner_text() and "MB" in est.inner_text()
    assert not page.blocked_requests
