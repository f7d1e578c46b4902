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


def test_curves_have_numeric_axes_in_step_order(page, open_tab):
    """Loss and LR curves of a run: linear (numeric) axes, not text categories; ticks ascend."""
    import secrets
    import shutil
    import time

    from apps.auth import LOCAL
    from apps.finetune import config, progress, runs

    run_id = f"curves-{secrets.token_hex(3)}"
    folder = runs.runs_root() / run_id  # the lab's own runs folder (the tab's runner reads it)
    config.save_yaml(config.RunConfig(data="alpaca_en", max_steps=12, label="curves"), folder / "run.yaml")
    runs.write_status(folder, state="finished", owner=LOCAL.id, created=time.time(), run_id=run_id)
    # what progress.MetricsCallback writes: LR warming up from 0 to 2e-4, loss from 2.1, eval every 4 steps
    progress.append(folder / "metrics.jsonl", {"type": "start", "time": 0, "total_steps": 12, "step": 0})
    for step in range(1, 13):
        lr = 2e-4 * min(1.0, (step - 1) / 2) * (1 - (step - 1) / 12)
        progress.append(folder / "metrics.jsonl", {"type": "log", "step": step, "total_steps": 12,
                                                   "loss": 2.1 / step ** 0.3 + 0.0132820129, "learning_rate": lr})
        if step % 4 == 0:
            progress.append(folder / "metrics.jsonl", {"type": "log", "step": step, "eval_loss": 2.0 / step ** 0.25})
    try:
        open_tab("finetune")
        page.locator("#ft-past").get_by_text("Past runs", exact=True).click()
        page.locator("#ft-refresh").click()
        page.wait_for_function("id => document.querySelector('#ft-runs').textContent.includes(id)", arg=run_id,
                               timeout=60_000)
        page.locator("#ft-pick input").fill(run_id)
        page.keyboard.press("Enter")
        for plot, y_title in (("#ft-loss", "loss"), ("#ft-lr-plot", "learning rate")):
            page.locator(f"{plot} svg [aria-roledescription='axis']").first.wait_for(timeout=60_000)
            axes = page.locator(f"{plot} svg [aria-roledescription='axis']").evaluate_all(
                """els => els.map(e => ({label: e.getAttribute('aria-label'),
                    ticks: [...e.querySelectorAll('.role-axis-label text')].map(t => t.textContent)}))""")
            x_axis = next(a for a in axes if a["label"].startswith("X-axis"))
            y_axis = next(a for a in axes if a["label"].startswith("Y-axis"))
            assert "titled 'step'" in x_axis["label"] and f"titled '{y_title}'" in y_axis["label"], axes
            assert all("linear scale" in a["label"] for a in (x_axis, y_axis)), axes  # numeric, not categories
            for axis in (x_axis, y_axis):  # tick labels are numbers (Vega may draw them in any order)
                values = [float(v.replace("\u2212", "-")) for v in axis["ticks"]]
                assert len(set(values)) >= 3, axes
            assert max(float(v) for v in x_axis["ticks"]) >= 10, axes  # the step axis reaches the last step
        assert not page.blocked_requests
    finally:
        shutil.rmtree(folder, ignore_errors=True)
