"""A class in the arena: a blind battle streams, the vote reveals the names and lands in the shared
database and the latest-votes table; the leaderboard (translated headers, "not enough votes yet")
and its heatmaps appear and follow a language switch; perplexity runs; votes export; a student's
fine-tuned run is among her own contestants (and not her classmate's), with both sides on screen."""
import json
import secrets
import time

import pytest
from playwright.sync_api import expect

from apps.arena.store import VoteStore
from tests.browser.conftest import wait_quiet

pytestmark = pytest.mark.browser
POOL = "smollm2-135m-instruct\nsmollm2-135m-instruct@creative"


def test_blind_battle_vote_leaderboard_export(open_tab, smollm, tmp_path, monkeypatch):
    db = tmp_path / "class.db"
    monkeypatch.setenv("LLMLAB_ARENA_DB", str(db))  # the live server (same process) follows it
    p = open_tab("arena")
    p.locator("#arena-battle-tab-button").click()
    # a small pool so the battle uses the already-loaded chat model
    p.locator("#tab-arena button", has_text="Contestants").first.click()
    box = p.locator("#arena-pool textarea")
    box.fill(POOL)
    wait_quiet(p)
    if box.input_value() != POOL:  # the page-load answer (the class's pool) came after the typing: type again
        box.fill(POOL)
    expect(box).to_have_value(POOL)
    p.locator("#arena-pool-apply").click()
    expect(p.locator("#arena-pool-status")).to_contain_text("2 contestants", timeout=120_000)

    tokens = p.locator("#arena-max-new input[type=number]")
    tokens.fill("8")
    tokens.press("Tab")
    p.locator("#arena-prompt textarea").fill("Name one fruit.")
    p.locator("#arena-start").click()
    p.locator("#arena-reveal").get_by_text("Anonymous battle").wait_for()
    expect(p.locator("#arena-vote-a")).to_be_enabled(timeout=120_000)
    assert p.locator("#arena-resp-a textarea").input_value().strip()
    assert "smollm2" not in p.locator("#arena-reveal").inner_text()  # names hidden before the vote
    p.locator("#arena-vote-a").click()
    p.locator("#arena-reveal").get_by_text("is saved").wait_for(timeout=30_000)
    revealed = p.locator("#arena-reveal").inner_text()
    assert "smollm2-135m-instruct@" in revealed and "1 vote." in revealed
    expect(p.locator("#arena-vote-a")).to_be_disabled()  # one vote per battle

    [rec] = VoteStore(db).records()
    assert rec["winner"] == "model_a" and rec["conversation_a"][0]["content"] == "Name one fruit."
    assert rec["llmlab"]["session"] and rec["anony"] is True

    # leaderboard with intervals and heatmaps
    p.locator("#arena-lb-tab-button").click()
    p.locator("#arena-lb-refresh").click()
    p.locator("#arena-lb-stats").get_by_text("1 vote,", exact=False).wait_for(timeout=60_000)
    table = p.locator("#arena-lb-table")
    expect(table).to_contain_text("smollm2-135m-instruct@creative")
    expect(table).to_contain_text("not enough votes yet (1/10)")
    expect(table).to_contain_text("95% interval")
    expect(p.locator("#arena-lb-note")).to_contain_text("standard deviation of 200 points")
    p.locator("#arena-lb-winrate img, #arena-lb-winrate svg, #arena-lb-winrate canvas").first.wait_for(timeout=30_000)

    # the latest votes show the stored one
    p.locator("#arena-io-tab-button").click()
    expect(p.locator("#arena-io-recent")).to_contain_text("Name one fruit.")
    expect(p.locator("#arena-io-recent")).to_contain_text("A is better")
    # export gives a downloadable Chatbot Arena file
    p.locator("#arena-io-export").click()
    p.locator("#arena-io-status").get_by_text("Exported 1 vote.").wait_for(timeout=30_000)
    link = p.locator("#arena-io-file a").first
    link.wait_for(timeout=30_000)
    body = p.request.get(link.get_attribute("href")).text()
    assert json.loads(body.splitlines()[0])["model_a"] == rec["model_a"]

    # results already on screen follow the language switch
    p.locator("#lang-switch label", has_text="中文").click()
    expect(p.locator("#arena-io-recent")).to_contain_text("A 更好", timeout=60_000)  # (3 plots redrawn too)
    p.locator("#arena-lb-tab-button").click()
    expect(table).to_contain_text("排名", timeout=60_000)
    expect(table).to_contain_text("票数不足（1/10）")
    expect(p.locator("#arena-lb-stats")).to_contain_text("1 票")
    assert not p.blocked_requests, p.blocked_requests[:3]


def test_perplexity_and_language_switch(open_tab, smollm):
    p = open_tab("arena")
    p.locator("#arena-ev-tab-button").click()
    p.locator("#arena-ev-ppl").click()
    expect(p.locator("#arena-ev-ppl-table")).to_contain_text("smollm2-135m-instruct", timeout=180_000)
    p.locator("#arena-ev-plot img, #arena-ev-plot svg, #arena-ev-plot canvas").first.wait_for(timeout=30_000)
    p.locator("#lang-switch label", has_text="中文").click()
    expect(p.locator("#arena-ev-ppl")).to_have_text("计算困惑度", timeout=30_000)
    expect(p.locator("#arena-ev-tab-button")).to_have_text("自动评测")


def finished_run(root, owner: str, label: str) -> str:
    """A finished LoRA run folder as the fine-tuning stage leaves it (the adapter is only listed here,
    never loaded, so its config is enough)."""
    from apps.finetune.config import RunConfig, save_yaml
    from apps.finetune.runs import write_status

    run_id = f"20261203-120000-sft-lora-smollm2-135m-instruct-{secrets.token_hex(2)}"
    folder = root / run_id
    (folder / "adapter").mkdir(parents=True)
    save_yaml(RunConfig(model="smollm2-135m-instruct", label=label), folder / "run.yaml")
    (folder / "adapter" / "adapter_config.json").write_text(
        json.dumps({"peft_type": "LORA", "base_model_name_or_path": "smollm2-135m-instruct"}))
    write_status(folder, state="finished", owner=owner, created=time.time())
    return run_id


def test_tuned_model_in_her_arena_list_only(new_context, classroom_lab):
    base, info, store = classroom_lab["base"], classroom_lab["info"], classroom_lab["store"]
    ann_id = store.sign_in(info["code"], "Ann", "ann-password")[0].id
    finished_run(classroom_lab["env"]["LLMLAB_RUNS"], ann_id, "ann-poet-with-a-rather-long-name-for-a-tuned-model")
    shown = "Fine-tuned: ann-poet-with-a-rather-long-name-for-a-tuned-model (smollm2-135m-instruct)"
    contexts = []
    try:
        for who in ("ann", "bob"):
            ctx = new_context()
            contexts.append(ctx)
            ctx.add_cookies([{"name": "llmlab_session", "value": classroom_lab["cookies"][who]["llmlab_session"],
                              "url": base}])
            p = ctx.new_page()
            p.set_default_timeout(120_000)
            p.goto(base)
            p.wait_for_selector("#lang-switch")
            if p.locator("#lang-switch label", has_text="English").is_visible():
                p.locator("#lang-switch label", has_text="English").click()
            p.locator("#tab-arena-button").click()
            p.locator("#arena-mode label", has_text="Named").click()
            b = p.locator("#arena-model-b input")
            if who == "bob":  # Ann's run is hers: not in Bob's list
                expect(b).to_be_visible()
                b.click()
                p.locator("ul[role=listbox]").first.wait_for()
                assert "ann-poet" not in p.locator("ul[role=listbox]").first.inner_text()
                continue
            expect(b).to_have_value(shown)  # the newest tuned run is B, against a base model as A
            for width in (1920, 1280):  # base vs tuned: the tuned column stays on screen
                p.set_viewport_size({"width": width, "height": 900})
                for sel in ("#arena-model-b", "#arena-resp-b"):
                    box = p.locator(sel).bounding_box()
                    assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, (width, sel, box)
            p.locator("#arena-ev-tab-button").click()
            p.locator("#arena-ev-models input").click()
            expect(p.locator("ul[role=listbox]").first).to_contain_text("ann-poet")
        for ctx in contexts:
            assert not ctx.blocked, ctx.blocked[:3]
    finally:
        for ctx in contexts:
            ctx.close()
