"""Ratings maths: BT (with its prior) against an independent logistic regression, recovery of known
strengths, the prior's shrinkage and Hessian intervals by hand, the "not enough votes" state, Elo by
hand and against BT, bootstrap fits against one-at-a-time fits, matrices and the leaderboard."""
import math

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from apps.arena import ratings as R
from apps.errors import LabError

TRUE = {"alpha": 1250.0, "bravo": 1150.0, "charlie": 1050.0, "delta": 1000.0, "echo": 900.0, "foxtrot": 800.0}


def sklearn_bt(records, models, l2):
    """Independent fit: logistic regression on +1/-1 design rows; a tie is two half-weighted rows,
    one won by each side. sklearn's C multiplies the data loss, so C = 1 / l2 matches our ridge;
    l2=None fits with no penalty at all (the plain MLE)."""
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
    lr = (LogisticRegression(C=1.0 / l2, fit_intercept=False, tol=1e-12, max_iter=10_000) if l2 else
          LogisticRegression(C=np.inf, fit_intercept=False, tol=1e-12, max_iter=10_000))
    lr.fit(np.array(X), np.array(y), sample_weight=np.array(w))
    coef = lr.coef_[0]
    return R.INIT + (coef - coef.mean()) / R.ALPHA


def test_bt_matches_logistic_regression_with_ties():
    records = R.synthetic(TRUE, 3000, seed=3, tie_rate=0.2)
    records[0]["winner"] = "tie (bothbad)"
    battles = R.Battles.from_records(records)
    ours = R.bradley_terry(battles)  # the default prior: N(INIT, 200²) on each rating
    prior_l2 = 1 / (200 * math.log(10) / 400) ** 2  # the prior's precision on logits, from its definition
    theirs = sklearn_bt(records, battles.models, l2=prior_l2)
    assert np.abs(ours - theirs).max() < 0.05  # rating points
    assert abs(ours.mean() - R.INIT) < 1e-6
    # on large data the prior moves nothing: equal to sklearn's unpenalised fit within a point
    big = R.synthetic(TRUE, 20_000, seed=4, tie_rate=0.1)
    battles = R.Battles.from_records(big)
    assert np.abs(R.bradley_terry(battles) - sklearn_bt(big, battles.models, l2=None)).max() < 1.0


def test_prior_shrinks_few_votes_and_hessian_interval_by_hand():
    # six votes, all won by x: the plain MLE runs off to ±thousands; the prior keeps it sane
    records = [{"model_a": "x", "model_b": "y", "winner": "model_a"}] * 6
    battles = R.Battles.from_records(records)
    assert abs(R.bradley_terry(battles, l2=1e-6)[0] - R.INIT) > 1000
    # closed form for two models with logits +t, -t: maximise 6·log σ(2t) - l2·t² (prior on both)
    l2, a = 1 / (200 * math.log(10) / 400) ** 2, math.log(10) / 400
    t = 0.0
    for _ in range(100):  # Newton on g(t) = 12·(1 - σ(2t)) - 2·l2·t
        s = 1 / (1 + math.exp(-2 * t))
        t -= (12 * (1 - s) - 2 * l2 * t) / (-24 * s * (1 - s) - 2 * l2)
    r, sd = R.bt_hessian_sd(battles)
    assert r[0] == pytest.approx(R.INIT + t / a, abs=0.01) and r[1] == pytest.approx(R.INIT - t / a, abs=0.01)
    assert 1150 < r[0] < 1250  # about +190, not +2000
    # Hessian [[h+l2, -h], [-h, h+l2]] with h = 6·s(1-s): its inverse's diagonal is (h+l2)/(l2·(2h+l2))
    s = 1 / (1 + math.exp(-2 * t))
    h = 6 * s * (1 - s)
    assert sd[0] == pytest.approx(math.sqrt((h + l2) / (l2 * (2 * h + l2))) / a, rel=1e-6)
    rows = R.leaderboard(battles)
    assert [row["rank"] for row in rows] == [None, None] and not any(row["enough"] for row in rows)
    assert rows[0]["ci"] == "hessian"
    assert rows[0]["ci_low"] == pytest.approx(r[0] - 1.96 * sd[0], abs=0.1)
    # a bootstrap of one-sided votes is far too narrow; the interval shown keeps the Hessian's width
    boot = R.leaderboard(battles, bootstrap_rounds=50)[0]
    assert boot["ci_high"] - boot["ci_low"] >= rows[0]["ci_high"] - rows[0]["ci_low"] - 0.1


def test_not_enough_votes_until_min_votes():
    recs = [{"model_a": "x", "model_b": "y", "winner": "model_a"}] * 9 + \
        [{"model_a": "x", "model_b": "z", "winner": "model_b"}] * 3
    rows = {r["model"]: r for r in R.leaderboard(R.Battles.from_records(recs))}
    assert R.MIN_VOTES == 10
    assert rows["x"]["votes"] == 12 and rows["x"]["rank"] == 1 and rows["x"]["enough"]
    assert rows["y"]["votes"] == 9 and rows["y"]["rank"] is None  # one vote short
    assert rows["z"]["rank"] is None
    listed = [r["model"] for r in R.leaderboard(R.Battles.from_records(recs))]
    assert listed[0] == "x"  # ranked models first, then the rest by rating
    rows = {r["model"]: r for r in R.leaderboard(R.Battles.from_records(recs + recs[:1]))}
    assert rows["y"]["enough"] and rows["y"]["rank"] is not None  # exactly MIN_VOTES: ranked
    above = rows["x"]["ci_low"] > rows["y"]["ci_high"]  # ten votes cannot yet tell x and y apart?
    assert rows["y"]["rank"] == 1 + above


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
    # same scale as BT: on many votes the two boards agree within a few dozen points
    bt = dict(zip(big.models, R.bradley_terry(big)))
    assert max(abs(elo[m] - bt[m]) for m in TRUE) < 50
    row = R.leaderboard(big, "elo", k=4)[0]
    assert row["elo"] == row["rating"] and row["bt"] == pytest.approx(bt[row["model"]], abs=0.01)


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
