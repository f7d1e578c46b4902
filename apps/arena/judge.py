"""LLM-as-judge: a model reached through apps.tasks.providers fills battles with its verdicts.

    llmlab arena judge --provider deepseek --prompts prompts.txt --contestants a b c --json

Each battle is generated as a human's would be (Arena.run), then the judge reads the question and
both answers with MT-bench's pairwise prompt and ends with [[A]], [[B]] or [[C]] (tie). Judges
prefer whichever answer comes first, so by default it is asked twice with the answers swapped; two
verdicts that disagree become a tie (MT-bench's "conservative" rule). When either order gives no
parsable verdict the battle is undecided: nothing is stored, and the reason ("unparsed_first",
"unparsed_swapped", "unparsed_both") is reported, never the one verdict that did parse (a judge
that could not answer the swapped order has not shown it is free of position bias). Votes are stored with
source "judge" and judge "llm-judge:<provider>/<model>", so the leaderboard can show humans and
judges apart, and `agreement` measures how often a judge agrees with the humans' votes.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from apps.arena.battles import Arena
from apps.errors import LabError

SYSTEM = (
    "Please act as an impartial judge and evaluate the quality of the responses provided by two AI "
    "assistants to the user question displayed below. Choose the assistant that follows the user's "
    "instructions and answers the question better, considering helpfulness, relevance, accuracy, depth "
    "and level of detail. Avoid position bias: the order of the responses must not influence you, and "
    "the length of a response is not a merit in itself. Do not favour certain names of the assistants. "
    "Be as objective as possible. After a short explanation, output your final verdict strictly in this "
    'format: "[[A]]" if assistant A is better, "[[B]]" if assistant B is better, and "[[C]]" for a tie.'
)
USER = ("[User Question]\n{question}\n\n[The Start of Assistant A's Answer]\n{answer_a}\n"
        "[The End of Assistant A's Answer]\n\n[The Start of Assistant B's Answer]\n{answer_b}\n"
        "[The End of Assistant B's Answer]")
_VERDICT = re.compile(r"\[\[\s*(A|B|C|tie)\s*\]\]", re.IGNORECASE)
_MAP = {"a": "model_a", "b": "model_b", "c": "tie", "tie": "tie"}


def parse_verdict(text: str) -> str | None:
    """'model_a' | 'model_b' | 'tie' from the judge's last [[X]], or None when there is none."""
    hits = _VERDICT.findall(text or "")
    return _MAP[hits[-1].lower()] if hits else None


def judge_name(cfg) -> str:
    if callable(cfg):  # a plain function standing in for a judge model (scripts, tests)
        return f"llm-judge:{getattr(cfg, '__name__', 'callable')}"
    return f"llm-judge:{cfg.preset}/{cfg.model_name}"


def messages_for(question: str, answer_a: str, answer_b: str) -> list[dict]:
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": USER.format(question=question, answer_a=answer_a, answer_b=answer_b)}]


def ask(cfg, question: str, answer_a: str, answer_b: str, max_tokens: int = 512) -> tuple[str | None, str]:
    """One judgement: (verdict or None, the judge's full reply). `cfg`: a ProviderConfig (any
    OpenAI-compatible model, or a local one), or a callable messages -> reply text."""
    messages = messages_for(question, answer_a, answer_b)
    if callable(cfg):
        text = cfg(messages)
    else:
        from apps.tasks.providers import chat

        text, _usage = chat(cfg, messages, max_tokens=max_tokens, temperature=0)
    return parse_verdict(text), text


_SWAP = {"model_a": "model_b", "model_b": "model_a", "tie": "tie"}
STATUSES = ("one_order", "consistent", "inconsistent", "unparsed_first", "unparsed_swapped", "unparsed_both")


@dataclass
class Verdict:
    """The outcome of judging (A, B). winner: model_a | model_b | tie, or None when undecided (not
    stored). status: one of STATUSES, the why. first / swapped: each order's parsed verdict, both in
    the original orientation (swapped is None when not asked or unparsable). replies: the raw texts."""

    winner: str | None
    status: str
    first: str | None = None
    swapped: str | None = None
    replies: list[str] = field(default_factory=list)


def verdict(cfg, question: str, answer_a: str, answer_b: str, both_orders: bool = True,
            max_tokens: int = 512) -> Verdict:
    """The judge's verdict on (A, B). With both_orders it is asked again as (B, A): agreeing orders
    give that verdict ("consistent"), disagreeing ones a tie ("inconsistent", MT-bench's rule), and
    an order without a parsable verdict leaves the battle undecided (winner None)."""
    first, raw1 = ask(cfg, question, answer_a, answer_b, max_tokens)
    if not both_orders:
        return Verdict(first, "one_order" if first else "unparsed_first", first, None, [raw1])
    second, raw2 = ask(cfg, question, answer_b, answer_a, max_tokens)
    swapped = _SWAP.get(second)  # the second verdict, seen from the original order
    replies = [raw1, raw2]
    if first is None or swapped is None:
        status = "unparsed_both" if first is None and swapped is None else \
            "unparsed_first" if first is None else "unparsed_swapped"
        return Verdict(None, status, first, swapped, replies)
    if first == swapped:
        return Verdict(first, "consistent", first, swapped, replies)
    return Verdict("tie", "inconsistent", first, swapped, replies)


def fill(arena: Arena, cfg, prompts: list[str], pairs: list[tuple] | None = None, max_new_tokens: int = 128,
         both_orders: bool = True, api_key: str | None = None, seed: int = 0, progress=None) -> dict:
    """Generate one battle per prompt (random pairs unless `pairs` gives them) and store the judge's
    verdicts. Returns counts (stored; inconsistent, stored as ties; unparsed, i.e. undecided and not
    stored; by_status) and each battle's outcome with its status."""
    prompts = [p.strip() for p in prompts if p and p.strip()]
    if not prompts:
        raise LabError("arena.judge_none")
    rng = random.Random(seed)
    name = judge_name(cfg)
    battles, by_status = [], dict.fromkeys(STATUSES, 0)
    for k, prompt in enumerate(prompts):
        a, b = pairs[k % len(pairs)] if pairs else (None, None)
        battle = arena.new_battle(prompt, a, b, session=name, rng=rng)
        for _ in arena.run(battle, max_new_tokens, api_key=api_key, seed=seed):
            pass
        v = verdict(cfg, prompt, battle.responses[0], battle.responses[1], both_orders)
        by_status[v.status] += 1
        if v.winner is not None:
            arena.vote(battle, v.winner, judge=name, source="judge")
        battles.append({"prompt": prompt, "model_a": battle.a.name, "model_b": battle.b.name,
                        "winner": v.winner, "status": v.status, "first": v.first, "swapped": v.swapped,
                        "judge_reply": v.replies[-1][:400]})
        if progress:
            progress(k + 1, len(prompts))
    undecided = sum(by_status[s] for s in STATUSES if s.startswith("unparsed"))
    return {"judge": name, "stored": len(battles) - undecided, "unparsed": undecided,
            "inconsistent": by_status["inconsistent"], "by_status": by_status, "battles": battles}


def agreement(records: list[dict]) -> dict:
    """How often judge votes agree with human votes on the same (prompt, pair): share of identical
    outcomes among prompts both judged (ties count as their own outcome)."""
    def key(rec):
        prompt = (rec.get("conversation_a") or [{}])[0].get("content", "")
        return prompt, frozenset((rec["model_a"], rec["model_b"]))

    def outcome(rec):  # the winner's name, or 'tie'
        return rec[rec["winner"]] if rec["winner"] in ("model_a", "model_b") else "tie"

    humans, judges = {}, {}
    for rec in records:
        src = (rec.get("llmlab") or {}).get("source", "import")
        (judges if src == "judge" else humans)[key(rec)] = outcome(rec)
    both = set(humans) & set(judges)
    same = sum(humans[k] == judges[k] for k in both)
    return {"compared": len(both), "agree": same, "rate": round(same / len(both), 4) if both else None}
