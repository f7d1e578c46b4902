"""How fast the arena's ratings are: online Elo, Bradley-Terry and 1,000 bootstrap rounds, at 10k
and 100k synthetic votes among 20 models (and 100k among 130, the real Arena's size), next to the way a
user would otherwise do it.

    .venv/bin/python bench/ratings.py [--votes 10000 100000] [--rounds 1000] [--models 20]

Baselines (what FastChat's notebook does): BT as a scikit-learn LogisticRegression on one design
row per vote (ties as two half-weighted rows), and a bootstrap that resamples the vote list and
refits that regression each round; the baseline bootstrap is timed on a few rounds and scaled to
`--rounds` (its cost is linear in rounds). Ours: BT by L-BFGS on aggregated pair counts; Elo's bootstrap
advances all rounds together, one vote step at a time; the
bootstrap draws pair counts from a multinomial and fits all rounds together by batched Newton.
Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
from scipy.stats import spearmanr


def timed(fn, repeat: int = 1):
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def sklearn_design(battles):
    """One row per vote (+1 for a, -1 for b), ties duplicated as half-weighted wins for each side."""
    n, m = battles.n, len(battles.models)
    tie = battles.outcome == 0.5
    rows = np.concatenate([np.arange(n), np.flatnonzero(tie)])
    X = np.zeros((rows.size, m))
    X[np.arange(rows.size), battles.a[rows]] = 1.0
    X[np.arange(rows.size), battles.b[rows]] = -1.0
    y = np.concatenate([(battles.outcome >= 0.5).astype(int), np.zeros(tie.sum(), int)])
    w = np.concatenate([np.where(tie, 0.5, 1.0), np.full(tie.sum(), 0.5)])
    return X, y, w


def sklearn_bt(X, y, w):
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e6, fit_intercept=False, tol=1e-8, max_iter=1000)
    return lr.fit(X, y, sample_weight=w).coef_[0]


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, nargs="+", default=[10_000, 100_000], help="vote counts to time")
    parser.add_argument("--rounds", type=int, default=1000, help="bootstrap rounds")
    parser.add_argument("--models", type=int, default=20, help="number of synthetic models")
    parser.add_argument("--arena-scale", type=int, default=130,
                        help="also time the largest --votes with this many models, as many as the real Arena (0 = skip)")
    parser.add_argument("--baseline-rounds", type=int, default=5, help="baseline bootstrap rounds actually run")
    args = parser.parse_args(argv)

    from apps.arena import ratings as R

    runs = [(n, args.models) for n in args.votes] + ([(max(args.votes), args.arena_scale)] if args.arena_scale else [])
    results = []
    for n, models in runs:
        truth = {f"model-{i:03d}": 1000.0 + 500.0 * (i / (models - 1) - 0.5) for i in range(models)}
        battles = R.Battles.from_records(R.synthetic(truth, n, seed=n))
        t_elo, _ = timed(lambda: R.elo(battles, k=4), repeat=3)
        t_bt, ours = timed(lambda: R.bradley_terry(battles), repeat=3)
        t_boot, samples = timed(lambda: R.bt_bootstrap(battles, args.rounds))
        t_elo_boot, _ = timed(lambda: R.elo_bootstrap(battles, args.rounds, k=4))
        X, y, w = sklearn_design(battles)
        t_sk, coef = timed(lambda: sklearn_bt(X, y, w), repeat=2)
        theirs = R.INIT + (coef - coef.mean()) / R.ALPHA
        rng = np.random.default_rng(0)

        def sk_boot():
            for _ in range(args.baseline_rounds):
                idx = rng.integers(0, X.shape[0], X.shape[0])
                sklearn_bt(X[idx], y[idx], w[idx])

        t_sk_boot_few, _ = timed(sk_boot)
        t_sk_boot = t_sk_boot_few / args.baseline_rounds * args.rounds
        order = np.argsort(-ours)
        results.append({
            "votes": n, "models": models,
            "elo_s": round(t_elo, 4), f"elo_bootstrap_{args.rounds}_s": round(t_elo_boot, 3),
            "bt_s": round(t_bt, 4), "bt_sklearn_s": round(t_sk, 4), "bt_speedup": round(t_sk / t_bt, 1),
            "bt_max_diff_vs_sklearn_points": round(float(np.abs(ours - theirs).max()), 3),
            f"bootstrap_{args.rounds}_s": round(t_boot, 3),
            f"bootstrap_{args.rounds}_sklearn_s_est": round(t_sk_boot, 1),
            "bootstrap_speedup": round(t_sk_boot / t_boot, 1),
            "mean_ci_width_points": round(float((np.percentile(samples, 97.5, 0) - np.percentile(samples, 2.5, 0)).mean()), 2),
            "spearman_vs_truth": round(float(spearmanr(ours, [truth[m] for m in battles.models])[0]), 4),
            "top3_match_truth": [battles.models[i] for i in order[:3]] == sorted(truth, key=truth.get, reverse=True)[:3],
        })
    report = {"bench": "arena ratings", "cpu": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
              "bootstrap_rounds": args.rounds, "baseline": "sklearn LogisticRegression per vote (FastChat style)",
              "results": results}
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
