"""Ratings maths: BT against an independent logistic regression, recovery of known strengths,
Elo by hand, bootstrap fits against one-at-a-time fits, matrices and the leaderboard."""
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from apps.arena import ratings as R
from apps.errors import LabError

TRUE = {"alpha": 1250.0, "bravo": 1150.0, "charlie": 1050.0, "delta": 1000.0, "echo": 900.0, "foxtrot": 800.0}


def sklearn_bt(records, models, l2):
    """Independent fit: logistic regression on +1/-1 design rows; a tie is two half-weighted rows,
    one won by each side. sklearn's C multiplies the data loss, so C = 1 / l2 matches our ridge."""
    index = {m: i for i, m in enumerate(models)}
    X, y, w = [], [], []
    for rec in records:
        row = np.zeros(len(models))
        row[index[rec["model_a"]]], row[index[rec["model_b"]]] = 1.0, -1.0
        if rec["winner"] in ("tie", "tie (bothbad)"):
            X += [row, row]
            y += [1, 0]
            w += [0.5, 0.5]
        else:
            X.append(row)
            y.append(1 if rec["winner"] == "model_a" else 0)
            w.append(1.0)
    lr = LogisticRegression(C=1.0 / l2, fit_intercept=False, tol=1e-12, max_iter=10_000)
    lr.fit(np.array(X), np.array(y), sample_weight=np.array(w))
    coef = lr.coef_[0]
    return R.INIT + (coef - coef.mean()) / R.ALPHA


def test_bt_matches_logistic_regression_with_ties():
    records = R.synthetic(TRUE, 3000, seed=3, tie_rate=0.2)
    records[0]["winner"] = "tie (bothbad)"
    battles = R.Battles.from_records(records)
    ours = R.bradley_terry(battles, l2=1e-3)
    theirs = sklearn_bt(records, battles.models, l2=1e-3)
    assert np.abs(ours - theirs).max() < 0.05  # rating points
    assert abs(ours.mean() - R.INIT) < 1e-6


def test_bt_recovers_known_strengths():
    records = R.synthetic(TRUE, 20_000, seed=7, tie_rate=0.0)
    battles = R.Battles.from_records(records)
    r = dict(zip(battles.models, R.bradley_terry(battles)))
    assert sorted(r, key=r.get, reverse=True) == sorted(TRUE, key=TRUE.get, reverse=True)
    true_mean = np.mean(list(TRUE.values()))
    for name, value in TRUE.items():  # without ties the scale is right too, within sampling error
        assert abs(r[name] - (value - true_mean + R.INIT)) < 20


def test_elo_by_hand_and_recovery():
    battles = R.Battles.from_records([{"model_a": "x", "model_b": "y", "winner": "model_a"},
                                      {"model_a": "y", "model_b": "x", "winner": "tie"}])
    r = R.elo(battles, k=32)
    # first vote: equal ratings, expected 0.5, x gains 16; second: tie, y (984) expected < 0.5 gains
    e_y = 1 / (1 + 10 ** ((1016 - 984) / 400))
    assert r[0] == pytest.approx(1016 - 32 * (0.5 - e_y))
    assert r[1] == pytest.approx(984 + 32 * (0.5 - e_y))
    big = R.Battles.from_records(R.synthetic(TRUE, 20_000, seed=1, tie_rate=0.0))
    elo = dict(zip(big.models, R.elo(big, k=4)))
    top = sorted(elo, key=elo.get, reverse=True)
    assert top[0] == "alpha" and top[-1] == "foxtrot"


def test_bootstrap_rounds_equal_separate_fits():
    battles = R.Battles.from_records(R.synthetic(TRUE, 800, seed=5))
    pc = battles.pair_counts()
    rng = np.random.default_rng(0)
    flat = pc.counts.reshape(-1)
    counts = rng.multinomial(int(flat.sum()), flat / flat.sum(), size=5).reshape(5, -1, 3).astype(float)
    many = R.bt_fit_many(pc, counts)
    for k in range(5):
        one = R.bt_logits(pc, counts=counts[k])
        assert np.abs(many[k] - one).max() / R.ALPHA < 0.01


def test_bootstrap_intervals_cover_and_rank():
    battles = R.Battles.from_records(R.synthetic(TRUE, 4000, seed=11, tie_rate=0.0))
    rows = R.leaderboard(battles, "bt", bootstrap_rounds=200)
    assert [r["model"] for r in rows] == sorted(TRUE, key=TRUE.get, reverse=True)
    for row in rows:
        assert row["ci_low"] < row["rating"] < row["ci_high"]
    assert rows[0]["rank"] == 1
    assert sum(r["votes"] for r in rows) == 2 * 4000
    assert all(r["wins"] + r["ties"] + r["losses"] == r["votes"] for r in rows)
    elo_rows = R.leaderboard(battles, "elo", bootstrap_rounds=50, k=8)
    assert {r["model"] for r in elo_rows} == set(TRUE)
    assert all(r["ci_low"] <= r["ci_high"] for r in elo_rows)


def test_matrices():
    battles = R.Battles.from_records([
        {"model_a": "x", "model_b": "y", "winner": "model_a"},
        {"model_a": "y", "model_b": "x", "winner": "model_a"},
        {"model_a": "x", "model_b": "y", "winner": "tie"},
        {"model_a": "x", "model_b": "z", "winner": "model_b"},
    ])
    win, count = R.matrices(battles)
    assert count[0, 1] == count[1, 0] == 3 and count[0, 2] == 1 and count[1, 2] == 0
    assert win[0, 1] == pytest.approx(1.5 / 3) and win[1, 0] == pytest.approx(1.5 / 3)
    assert win[2, 0] == 1.0 and np.isnan(win[1, 2])
    exp = R.expected_win_rate(np.array([1400.0, 1000.0]))
    assert exp[0, 1] == pytest.approx(10 / 11) and exp[0, 1] + exp[1, 0] == pytest.approx(1)


def test_bad_input_is_explained():
    with pytest.raises(LabError) as err:
        R.Battles.from_records([{"model_a": "x", "model_b": "y", "winner": "draw"}])
    assert err.value.key == "arena.bad_winner"
    with pytest.raises(LabError):
        R.ratings(R.Battles.from_records([]))
    with pytest.raises(LabError):
        R.ratings(R.Battles.from_records(R.synthetic(TRUE, 10)), method="glicko")
