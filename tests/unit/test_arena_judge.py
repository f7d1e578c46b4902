"""The judge's verdict parser and its agreement with human votes (no model needed)."""
from apps.arena import judge
from apps.arena.store import Vote


def test_parse_verdict():
    assert judge.parse_verdict("A is better. [[A]]") == "model_a"
    assert judge.parse_verdict("Final verdict: [[ b ]]") == "model_b"
    assert judge.parse_verdict("first [[B]] then, on reflection, [[C]]") == "tie"
    assert judge.parse_verdict("I like both") is None and judge.parse_verdict("") is None


def test_agreement_between_judge_and_humans():
    def rec(prompt, a, b, winner, source):
        return Vote(a, b, winner, prompt=prompt, source=source).record()

    records = [
        rec("p1", "x", "y", "model_a", "human"), rec("p1", "y", "x", "model_b", "judge"),  # both say x
        rec("p2", "x", "y", "tie", "human"), rec("p2", "x", "y", "model_a", "judge"),      # disagree
        rec("p3", "x", "y", "model_b", "human"),                                            # no judge vote
    ]
    assert judge.agreement(records) == {"compared": 2, "agree": 1, "rate": 0.5}


# ---- the swap, with plain functions standing in for the judge model (each reads the prompt it is
# sent, as a model would, so a wrong swap in our code changes what they answer)

def answers(messages):
    """(first answer, second answer) as the judge sees them in the user message."""
    text = messages[-1]["content"]
    a = text.split("[The Start of Assistant A's Answer]\n")[1].split("\n[The End of Assistant A's Answer]")[0]
    b = text.split("[The Start of Assistant B's Answer]\n")[1].split("\n[The End of Assistant B's Answer]")[0]
    return a, b


def fair(messages):
    """Prefers the answer that says 'Paris', wherever it stands."""
    a, b = answers(messages)
    return "Reasoning… [[A]]" if "Paris" in a and "Paris" not in b else \
        "Reasoning… [[B]]" if "Paris" in b and "Paris" not in a else "Both alike. [[C]]"


def first_wins(messages):
    """Position bias: always the first answer."""
    return "The first one. [[A]]"


def scripted(*replies):
    """Replies in turn, and records what it was shown."""
    seen = []

    def judge_fn(messages):
        seen.append(answers(messages))
        return replies[len(seen) - 1]
    judge_fn.seen = seen
    return judge_fn


Q, GOOD, BAD = "Capital of France?", "It is Paris.", "It is Lyon."


def test_consistent_judge_both_orders():
    v = judge.verdict(fair, Q, GOOD, BAD)
    assert (v.winner, v.status, v.first, v.swapped) == ("model_a", "consistent", "model_a", "model_a")
    v = judge.verdict(fair, Q, BAD, GOOD)
    assert (v.winner, v.status) == ("model_b", "consistent") and len(v.replies) == 2
    v = judge.verdict(fair, Q, GOOD, GOOD)
    assert (v.winner, v.status) == ("tie", "consistent")


def test_position_bias_is_inconsistent_and_a_tie():
    v = judge.verdict(first_wins, Q, GOOD, BAD)
    assert (v.winner, v.status, v.first, v.swapped) == ("tie", "inconsistent", "model_a", "model_b")
    v = judge.verdict(first_wins, Q, GOOD, BAD, both_orders=False)
    assert (v.winner, v.status, len(v.replies)) == ("model_a", "one_order", 1)


def test_second_call_really_swaps_the_answers():
    fn = scripted("[[A]]", "[[B]]")
    v = judge.verdict(fn, Q, GOOD, BAD)
    assert fn.seen == [(GOOD, BAD), (BAD, GOOD)]
    assert (v.winner, v.status) == ("model_a", "consistent")  # B in the swapped order is the same answer


def test_unparsable_in_either_order_is_undecided():
    v = judge.verdict(scripted("Clearly [[A]]", "I cannot decide."), Q, GOOD, BAD)
    assert (v.winner, v.status, v.first, v.swapped) == (None, "unparsed_swapped", "model_a", None)  # not A
    v = judge.verdict(scripted("Hmm.", "[[B]]"), Q, GOOD, BAD)
    assert (v.winner, v.status, v.swapped) == (None, "unparsed_first", "model_a")
    v = judge.verdict(scripted("Hmm.", "Hmm."), Q, GOOD, BAD)
    assert (v.winner, v.status) == (None, "unparsed_both")
    v = judge.verdict(scripted("Hmm."), Q, GOOD, BAD, both_orders=False)
    assert (v.winner, v.status, len(v.replies)) == (None, "unparsed_first", 1)
