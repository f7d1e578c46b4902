"""A class in the arena: a blind battle streams, the vote reveals the names and lands in the shared
database; the leaderboard and its heatmaps appear; perplexity runs; votes export; zh/en switch."""
import json

import pytest
from playwright.sync_api import expect

from apps.arena.store import VoteStore

pytestmark = pytest.mark.browser
POOL = "smollm2-135m-instruct\nsmollm2-135m-instruct@creative"


def test_blind_battle_vote_leaderboard_export(open_tab, smollm, tmp_path, monkeypatch):
    db = tmp_path / "class.db"
    monkeypatch.setenv("LLMLAB_ARENA_DB", str(db))  # the live server (same process) follows it
    p = open_tab("arena")
    p.locator("#arena-battle-tab-button").click()
    # a small pool so the battle uses the already-loaded chat model
    p.locator("#tab-arena button", has_text="Contestants").first.click()
    p.locator("#arena-pool textarea").fill(POOL)
    p.locator("#arena-pool-apply").click()
    p.locator("#arena-pool-status").get_by_text("2 contestants").wait_for()

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
    assert "smollm2-135m-instruct@" in revealed and "1 votes" in revealed
    expect(p.locator("#arena-vote-a")).to_be_disabled()  # one vote per battle

    [rec] = VoteStore(db).records()
    assert rec["winner"] == "model_a" and rec["conversation_a"][0]["content"] == "Name one fruit."
    assert rec["llmlab"]["session"] and rec["anony"] is True

    # leaderboard with intervals and heatmaps
    p.locator("#arena-lb-tab-button").click()
    p.locator("#arena-lb-refresh").click()
    p.locator("#arena-lb-stats").get_by_text("1 votes", exact=False).wait_for(timeout=60_000)
    expect(p.locator("#arena-lb-table")).to_contain_text("smollm2-135m-instruct@creative")
    p.locator("#arena-lb-winrate img, #arena-lb-winrate svg, #arena-lb-winrate canvas").first.wait_for(timeout=30_000)

    # export gives a downloadable Chatbot Arena file
    p.locator("#arena-io-tab-button").click()
    p.locator("#arena-io-export").click()
    p.locator("#arena-io-status").get_by_text("Exported 1 votes").wait_for(timeout=30_000)
    link = p.locator("#arena-io-file a").first
    link.wait_for(timeout=30_000)
    body = p.request.get(link.get_attribute("href")).text()
    assert json.loads(body.splitlines()[0])["model_a"] == rec["model_a"]
    assert not p.blocked_requests, p.blocked_requests[:3]


def test_perplexity_and_language_switch(open_tab, smollm):
    p = open_tab("arena")
    p.locator("#arena-ev-tab-button").click()
    p.locator("#arena-ev-ppl").click()
    expect(p.locator("#arena-ev-ppl-table")).to_contain_text("smollm2-135m-instruct", timeout=180_000)
    p.locator("#arena-ev-plot img, #arena-ev-plot svg, #arena-ev-plot canvas").first.wait_for(timeout=30_000)
    p.locator("#lang-switch label", has_text="中文").click()
    expect(p.locator("#arena-ev-ppl")).to_have_text("计算困惑度")
    expect(p.locator("#arena-ev-tab-button")).to_have_text("自动评测")
