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
