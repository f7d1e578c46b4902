"""A real battle: two contestants stream side by side, the vote is stored with both replies and
settings, and an LLM judge (a registry model through apps.tasks.providers) fills battles."""
import json

from apps.arena import contestants as C
from apps.arena import judge
from apps.arena.battles import Arena
from apps.arena.store import VoteStore
from apps.tasks.providers import ProviderConfig


def test_named_battle_streams_and_stores(tmp_path, smollm):
    arena = Arena(VoteStore(tmp_path / "a.db"), pool=[])
    battle = arena.new_battle("Name a colour.", "smollm2-135m-instruct",
                              "smollm2-135m-instruct@temperature=1.5,seed=3", session="s")
    steps = list(arena.run(battle, max_new_tokens=6))
    assert len(steps) >= 3 and battle.finished  # updates arrived token by token
    assert all(isinstance(x, str) for x in steps[-1]) and steps[-1] == tuple(battle.responses)
    assert battle.public()["model_a"] == "smollm2-135m-instruct"  # named mode shows names
    reveal = arena.vote(battle, "tie")
    [rec] = arena.store.records()
    assert rec["conversation_a"][1]["content"] == battle.responses[0]
    assert rec["llmlab"]["settings_b"]["decoding"] == {"do_sample": True, "seed": 3, "temperature": 1.5}
    assert rec["anony"] is False and reveal["stored"]


def test_anonymous_battle_hides_names_until_vote(tmp_path, smollm):
    arena = Arena(VoteStore(tmp_path / "b.db"), pool=["smollm2-135m-instruct", "smollm2-135m-instruct@creative"])
    battle = arena.new_battle("Say hello.", session="anon")
    assert battle.public()["model_a"] is None
    for _ in arena.run(battle, max_new_tokens=4):
        pass
    reveal = arena.vote(battle, "model_a")
    assert {reveal["model_a"], reveal["model_b"]} == {c.name for c in arena.pool}


def test_decoding_spec_parsing():
    c = C.parse("smollm2-135m-instruct@balanced")
    assert c.kind == C.DECODING and c.decoding == {"do_sample": True, "temperature": 0.7, "top_p": 0.9}
    assert c.name == "smollm2-135m-instruct@balanced"
    assert C.parse("gemma-3-270m@top_k=5").name == "gemma-3-270m@do_sample=True,top_k=5"
    assert C.parse(c.settings()).name == c.name
    assert C.parse("api:deepseek").name == "api:deepseek/deepseek-chat"


def test_llm_judge_fills_battles(tmp_path, smollm):
    arena = Arena(VoteStore(tmp_path / "j.db"), pool=["smollm2-135m-instruct", "smollm2-135m-instruct@creative"])
    cfg = ProviderConfig("local", model="smollm2-135m-instruct")
    out = judge.fill(arena, cfg, ["What is 2+2?"], max_new_tokens=8, both_orders=False)
    assert out["stored"] + out["unparsed"] == 1 and out["judge"] == "llm-judge:local/smollm2-135m-instruct"
    assert arena.store.count("judge") == out["stored"] and arena.store.count("human") == 0


def test_judge_swap_stores_only_decided_battles(tmp_path, smollm):
    """Both orders through fill(): a function stands in for the judge model. It prefers the
    alphabetically first answer wherever it stands (so its two orders agree), except that it gives
    no verdict on the swapped order of the riddle: that battle must be undecided and not stored."""
    calls = {}

    def alphabetical(messages):
        text = messages[-1]["content"]
        question = text.split("[User Question]\n")[1].split("\n\n")[0]
        calls[question] = calls.get(question, 0) + 1
        if question.startswith("Riddle") and calls[question] == 2:
            return "I would rather not say."
        a = text.split("Assistant A's Answer]\n")[1].split("\n[The End")[0]
        b = text.split("Assistant B's Answer]\n")[1].split("\n[The End")[0]
        return "[[A]]" if a < b else "[[B]]" if b < a else "[[C]]"

    arena = Arena(VoteStore(tmp_path / "s.db"), pool=["smollm2-135m-instruct", "smollm2-135m-instruct@creative"])
    out = judge.fill(arena, alphabetical, ["Name a fruit.", "Riddle: what has keys but no locks?"], max_new_tokens=4)
    first, riddle = out["battles"]
    assert calls == {"Name a fruit.": 2, "Riddle: what has keys but no locks?": 2}
    assert riddle["status"] == "unparsed_swapped" and riddle["winner"] is None and riddle["first"] is not None
    assert first["status"] == "consistent" and out["stored"] == 1 and out["unparsed"] == 1
    [rec] = arena.store.records("judge")
    replies = rec["conversation_a"][1]["content"], rec["conversation_b"][1]["content"]
    want = "model_a" if replies[0] < replies[1] else "model_b" if replies[1] < replies[0] else "tie"
    assert rec["winner"] == want and rec["judge"] == "llm-judge:alphabetical"


def test_adapter_contestant(tmp_path, cache, smollm):
    """A peft adapter folder (as the fine-tuning stage leaves in <run>/adapter) fights its own base."""
    from peft import LoraConfig, get_peft_model

    from apps.models import load_model

    base = load_model("smollm2-135m-instruct")  # a private copy: peft wraps it in place
    folder = tmp_path / "run-42" / "adapter"
    get_peft_model(base.model, LoraConfig(r=2, target_modules=["q_proj", "v_proj"])).save_pretrained(folder)
    c = C.parse(f"smollm2-135m-instruct+{folder}")
    assert c.kind == C.ADAPTER and c.name == "smollm2-135m-instruct+run-42"
    assert type(c.load(cache).model).__name__.startswith("Peft")
    arena = Arena(VoteStore(tmp_path / "ad.db"), pool=[], cache=cache)
    battle = arena.new_battle("Hi!", c, "smollm2-135m-instruct")
    *_, final = arena.run(battle, max_new_tokens=4)
    # a fresh LoRA starts as the identity (B = 0), so greedy replies agree with the base model's
    assert final[0] == final[1] and final[0]
    arena.vote(battle, "tie")
    assert arena.store.records()[0]["llmlab"]["settings_a"]["adapter"] == str(folder.resolve())


def test_api_contestant_against_the_labs_own_v1(tmp_path, live_url, smollm):
    """An API contestant streams through apps.tasks.providers from our own OpenAI-compatible server,
    side by side with a local model; its base URL is stored with the vote, never a key."""
    spec = f"api:custom/smollm2-135m-instruct@{live_url}/v1"
    c = C.parse(spec)
    assert c.kind == C.API and c.name == "api:custom/smollm2-135m-instruct" and c.base_url == f"{live_url}/v1"
    arena = Arena(VoteStore(tmp_path / "api.db"), pool=[])
    battle = arena.new_battle("Say hi.", c, "smollm2-135m-instruct")
    *_, final = arena.run(battle, max_new_tokens=6, api_key="sk-test-not-stored")
    assert final[0] and final[0] == final[1]  # greedy through HTTP equals greedy in process
    arena.vote(battle, "tie")
    [rec] = arena.store.records()
    assert rec["llmlab"]["settings_a"]["base_url"] == f"{live_url}/v1"
    assert "sk-test-not-stored" not in json.dumps(rec)
