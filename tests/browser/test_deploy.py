"""A learner in the Deploy tab: the commands carry the address the page was opened at, and a load
test of the lab's own /v1 (the server's loopback URL, filled in) draws its timeline."""
import pytest

pytestmark = pytest.mark.browser


def test_commands_use_the_real_url_and_load_test_runs(open_tab, live_url, smollm):
    p = open_tab("deploy")
    commands = p.locator("#deploy-commands")
    commands.get_by_text(f"OPENAI_API_BASE_URL={live_url}/v1").first.wait_for(timeout=120_000)
    assert f"curl {live_url}/v1/models" in commands.inner_text()
    assert p.locator("#deploy-target input, #deploy-target textarea").first.input_value() == f"{live_url}/v1"
    for box, value in (("#deploy-streams", "3"), ("#deploy-max-tokens", "8")):
        p.locator(f"{box} input[type=number]").fill(value)
        p.locator(f"{box} input[type=number]").press("Tab")
    p.locator("#deploy-run").click()
    done = p.locator("#deploy-summary").get_by_text("served")
    toast = p.locator(".toast-body")
    done.or_(toast).first.wait_for(timeout=240_000)
    assert "3 streams: 3 served, 0 refused, 0 failed" in p.locator("#deploy-summary").inner_text(), \
        toast.all_inner_texts()
    p.locator("#deploy-plot img, #deploy-plot svg, #deploy-plot canvas").first.wait_for(timeout=30_000)
    assert not p.blocked_requests


def test_export_button_hands_out_a_zip(open_tab, live_url):
    """A learner picks the small GGUF model, writes a system prompt, builds the app and gets a zip link."""
    p = open_tab("deploy")
    box = p.locator("#deploy-ex-model input").first
    box.click()
    box.fill("GGUF")  # a dropdown that takes typing filters its options by it
    option = p.get_by_role("option").filter(has_text="smollm2-135m-instruct (GGUF")
    try:
        option.first.click(timeout=60_000)
    except Exception:
        raise AssertionError(f"options: {p.get_by_role('option').all_inner_texts()}") from None
    p.locator("#deploy-ex-system textarea").fill("Answer in one short sentence.")
    p.locator("#deploy-ex-run").click()
    done = p.locator("#deploy-ex-status").get_by_text("my-first-ai-app.zip")
    toast = p.locator(".toast-body")
    done.or_(toast).first.wait_for(timeout=240_000)
    assert "llama-cpp-python==" in p.locator("#deploy-ex-status").inner_text(), toast.all_inner_texts()
    link = p.locator("#deploy-ex-file a").first
    link.wait_for(timeout=30_000)
    assert "my-first-ai-app.zip" in (link.get_attribute("href") or "") and "MB" in link.inner_text()
    assert not p.blocked_requests
