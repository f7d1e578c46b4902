"""A learner in the fine-tuning tab: preview which tokens are trained, estimate memory, meet the QLoRA note."""
import pytest

pytestmark = pytest.mark.browser


def test_preview_masking_and_estimate(page, open_tab):
    open_tab("finetune")
    page.locator("#ft-preview").click()
    out = page.locator("#ft-preview-out")
    out.get_by_text("tokens trained").first.wait_for(timeout=120_000)
    green = out.locator("span[style*='bbf7d0']")
    assert green.count() > 3  # the assistant's answer is highlighted, the prompt is not
    assert out.locator("span[style*='f1f5f9']").count() > green.count() // 4

    page.locator("#ft-estimate").click()
    page.locator("#ft-estimate-out").get_by_text("MB").first.wait_for(timeout=120_000)
    assert "trainable" in page.locator("#ft-estimate-out").inner_text()

    page.locator("#ft-method label").filter(has_text="qlora").click()
    page.locator("#ft-estimate").click()
    page.locator("#ft-estimate-out").get_by_text("QLoRA needs an NVIDIA GPU").wait_for(timeout=120_000)
    assert not page.blocked_requests
