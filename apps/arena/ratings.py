"""Ratings from pairwise votes: online Elo, Bradley-Terry MLE, bootstrap intervals, matrices.

numpy + scipy only (no gradio, no pandas), so the same code ranks our classroom's votes and the
real Chatbot Arena's published battles:

    from apps.arena.ratings import Battles, leaderboard
    b = Battles.from_records([{"model_a": "x", "model_b": "y", "winner": "model_a"}, ...])
    rows = leaderboard(b, method="bt", bootstrap=1000)

Conventions (as FastChat's `rating_systems.py`): a rating lives on the Elo scale, so
P(i beats j) = 1 / (1 + BASE ** ((r_j - r_i) / SCALE)) with SCALE 400 and BASE 10; everyone starts
at INIT 1000; a tie counts as half a win for each side ("this form naturally counts a draw as
half a win"), and "tie (bothbad)" is a tie.

Bradley-Terry here is a MAP fit under a Gaussian prior: every rating is believed to lie around
INIT with a standard deviation of PRIOR_SD = 200 rating points before any vote (so 95 % of models
within ±400 of 1000, about the spread of the real Arena's leaderboard). In logits that is an L2
penalty of 1 / (PRIOR_SD * ALPHA)² ≈ 0.75 on each model's logit, i.e. scikit-learn's
LogisticRegression with C = (PRIOR_SD * ALPHA)². Six one-sided votes give ≈ 1190 vs 855 instead of
the unregularised fit's 2500 vs 125; with thousands of votes the prior moves nothing (< 1 point).

Online Elo and BT share the scale (P(win) from the same formula), but Elo moves at most K points
per vote in vote order: with few votes and K=4 it stays near INIT, with many it ends close to BT.
A model with fewer than MIN_VOTES votes gets no rank ("not enough votes yet"); its rating and
interval are still shown, wide as they are.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import minimize
from scipy.special import expit, log_expit

from apps.errors import LabError

SCALE, BASE, INIT = 400.0, 10.0, 1000.0
ALPHA = math.log(BASE) / SCALE  # rating points -> logits: theta = ALPHA * (r - INIT)
PRIOR_SD = 200.0  # rating points: the Gaussian prior's standard deviation around INIT
PRIOR_L2 = 1.0 / (PRIOR_SD * ALPHA) ** 2  # the same prior as an L2 penalty on logits (~0.754)
MIN_VOTES = 10  # a model with fewer votes is listed without a rank: "not enough votes yet"
Z95 = 1.959963984540054  # two-sided 95 % normal quantile
WINNERS = ("model_a", "model_b", "tie", "tie (bothbad)")
_OUTCOME = {"model_a": 1.0, "model_b": 0.0, "tie": 0.5, "tie (bothbad)": 0.5}


@dataclass
class Battles:
    """Votes as arrays. `models`: names (M,); `a`, `b`: int64 (N,) indices into models;
    `outcome`: float64 (N,) 1.0 (a won), 0.5 (tie), 0.0 (b won), in vote order."""

    models: list[str]
    a: np.ndarray
    b: np.ndarray
    outcome: np.ndarray

    @property
    def n(self) -> int:
        return int(self.outcome.shape[0])

    @classmethod
    def from_records(cls, records) -> "Battles":
        """From dicts with model_a, model_b, winner (extra fields ignored; self-battles dropped)."""
        names: dict[str, int] = {}
        a, b, out = [], [], []
        for i, rec in enumerate(records):
            winner = rec.get("winner")
            if winner not in _OUTCOME:
                raise LabError("arena.bad_winner", line=i + 1, winner=winner, choices=", ".join(WINNERS))
            ma, mb = str(rec["model_a"]), str(rec["model_b"])
            if ma == mb:
                continue
            a.append(names.setdefault(ma, len(names)))
            b.append(names.setdefault(mb, len(names)))
            out.append(_OUTCOME[winner])
        return cls(list(names), np.asarray(a, np.int64), np.asarray(b, np.int64), np.asarray(out, np.float64))

    def pair_counts(self) -> "PairCounts":
        """Aggregate votes into (pair, outcome) cells: C = 3 cells per unordered pair i < j."""
        m = len(self.models)
        lo, hi = np.minimum(self.a, self.b), np.maximum(self.a, self.b)
        # outcome seen from the lower index: 1.0 means `lo` won
        out = np.where(self.a == lo, self.outcome, 1.0 - self.outcome)
        pair_code = lo * m + hi
        codes, pair_idx = np.unique(pair_code, return_inverse=True)
        cell = pair_idx * 3 + np.rint(out * 2).astype(np.int64)  # 0 lo lost, 1 tie, 2 lo won
        counts = np.bincount(cell, minlength=codes.size * 3).reshape(-1, 3).astype(np.float64)
        return PairCounts(m, codes // m, codes % m, counts)


@dataclass
class PairCounts:
    """`i`, `j`: int64 (P,) with i < j; `counts`: float64 (P, 3) votes where i lost / tied / won."""

    m: int
    i: np.ndarray
    j: np.ndarray
    counts: np.ndarray

    def wins(self, counts: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(w, n): i's wins with ties as halves, and games, each (..., P), for counts (..., P, 3)."""
        c = self.counts if counts is None else counts
        return c[..., 2] + 0.5 * c[..., 1], c.sum(-1)


# ---------------------------------------------------------------- Elo


def elo(battles: Battles, k: float = 4.0, init: float = INIT) -> np.ndarray:
    """Online Elo in vote order. Returns float64 (M,). K=4 is FastChat's choice for many votes;
    a classroom with few votes moves faster with K=16..32."""
    r = np.full(len(battles.models), init, dtype=np.float64)
    for a, b, s in zip(battles.a.tolist(), battles.b.tolist(), battles.outcome.tolist()):
        ea = 1.0 / (1.0 + BASE ** ((r[b] - r[a]) / SCALE))
        r[a] += k * (s - ea)
        r[b] -= k * (s - ea)
    return r


def elo_bootstrap(battles: Battles, rounds: int, k: float = 4.0, seed: int = 0, chunk: int = 4096) -> np.ndarray:
    """Elo on `rounds` resamples (with replacement, random order), all rounds advanced together.
    Returns float64 (rounds, M). Each step touches a (rounds,) column, so the Python loop is over
    votes only, not votes x rounds."""
    rng = np.random.default_rng(seed)
    n, m = battles.n, len(battles.models)
    r = np.full((rounds, m), INIT)
    rows = np.arange(rounds)
    for start in range(0, n, chunk):
        idx = rng.integers(0, n, size=(min(chunk, n - start), rounds))  # (steps, rounds)
        ai, bi, si = battles.a[idx], battles.b[idx], battles.outcome[idx]
        for a, b, s in zip(ai, bi, si):
            ra, rb = r[rows, a], r[rows, b]
            delta = k * (s - 1.0 / (1.0 + BASE ** ((rb - ra) / SCALE)))
            r[rows, a] = ra + delta
            r[rows, b] = rb - delta
    return r


# ---------------------------------------------------------------- Bradley-Terry


def _nll(theta: np.ndarray, pc: PairCounts, w: np.ndarray, n: np.ndarray, l2: float):
    """Negative log-likelihood and gradient of logits theta (M,) for wins w, games n (P,)."""
    d = theta[pc.i] - theta[pc.j]
    loss = -(w * log_expit(d) + (n - w) * log_expit(-d)).sum() + 0.5 * l2 * theta @ theta
    resid = n * expit(d) - w  # d loss / d d, (P,)
    grad = np.bincount(pc.i, resid, pc.m) - np.bincount(pc.j, resid, pc.m) + l2 * theta
    return loss, grad


def bt_logits(pc: PairCounts, l2: float = PRIOR_L2, counts: np.ndarray | None = None) -> np.ndarray:
    """Bradley-Terry MAP fit as logits (M,), by L-BFGS on aggregated pair counts. `l2` is the
    Gaussian prior's precision on logits (PRIOR_L2 by default; 1e-6 is a near-MLE): it keeps an
    unbeaten model finite and fixes the shift freedom (the optimum has mean 0)."""
    w, n = pc.wins(counts)
    # an M-sized problem gains nothing from BLAS threads, and on a busy machine their spin-waiting
    # made this 50x slower (100 ms instead of 2 ms for 20 models)
    with _one_blas_thread():
        res = minimize(_nll, np.zeros(pc.m), args=(pc, w, n, l2), jac=True, method="L-BFGS-B",
                       options={"maxiter": 1000, "gtol": 1e-10, "ftol": 1e-15})
    return res.x - res.x.mean()


def _one_blas_thread():
    try:  # threadpoolctl ships with scikit-learn; without it BLAS keeps its own thread count
        from threadpoolctl import threadpool_limits

        return threadpool_limits(1, user_api="blas")
    except ImportError:
        return contextlib.nullcontext()


def to_rating(theta: np.ndarray, init: float = INIT) -> np.ndarray:
    return init + theta / ALPHA


def bradley_terry(battles: Battles, l2: float = PRIOR_L2) -> np.ndarray:
    """BT ratings on the Elo scale (mean INIT), float64 (M,), under the PRIOR_SD prior by default."""
    return to_rating(bt_logits(battles.pair_counts(), l2))


def bt_hessian_sd(battles: Battles, l2: float = PRIOR_L2) -> tuple[np.ndarray, np.ndarray]:
    """(ratings, standard errors), each float64 (M,) in rating points, from the curvature of the
    log-posterior at its maximum (Laplace approximation): cov = H⁻¹ with
    H = Σ_pairs n·p(1-p)·(e_i - e_j)(e_i - e_j)ᵀ + l2·I. The prior makes H invertible even for a
    model that never lost or a pair of models that never met anyone else."""
    pc = battles.pair_counts()
    theta = bt_logits(pc, l2)
    _, n = pc.wins()
    s = expit(theta[pc.i] - theta[pc.j])
    h = n * s * (1 - s)  # (P,)
    hess = l2 * np.eye(pc.m)
    np.add.at(hess, (pc.i, pc.i), h)
    np.add.at(hess, (pc.j, pc.j), h)
    np.add.at(hess, (pc.i, pc.j), -h)
    np.add.at(hess, (pc.j, pc.i), -h)
    with _one_blas_thread():
        var = np.diag(np.linalg.inv(hess))
    return to_rating(theta), np.sqrt(var) / ALPHA


def bt_bootstrap(battles: Battles, rounds: int, l2: float = PRIOR_L2, seed: int = 0) -> np.ndarray:
    """BT ratings of `rounds` resamples, float64 (rounds, M).

    Resampling N votes with replacement is the same as drawing cell counts from a multinomial over
    the (pair, outcome) cells, so no vote list is ever materialised.
    """
    pc = battles.pair_counts()
    rng = np.random.default_rng(seed)
    flat = pc.counts.reshape(-1)
    out = []
    # chunks bound memory on the real Arena (~130 models, ~8k pairs): counts are (chunk, P, 3) and
    # the Hessians (chunk, M, M)
    chunk = max(1, min(rounds, int(2e7 // max(1, flat.size + pc.m * pc.m))))
    for start in range(0, rounds, chunk):
        n = min(chunk, rounds - start)
        counts = rng.multinomial(int(flat.sum()), flat / flat.sum(), size=n).reshape(n, -1, 3)
        out.append(bt_fit_many(pc, counts.astype(np.float64), l2))
    return to_rating(np.concatenate(out))


def bt_fit_many(pc: PairCounts, counts: np.ndarray, l2: float = PRIOR_L2, iters: int = 60) -> np.ndarray:
    """BT logits for R count tables at once: counts (R, P, 3) -> theta (R, M), each row mean 0.

    Damped Newton steps, warm-started at the MLE of `pc` itself; the Hessian is (R, M, M), built by
    one sparse product, so the cost is R small solves per step instead of R scipy optimisations.
    """
    rounds = counts.shape[0]
    w, n = pc.wins(counts)  # (R, P)
    theta = np.tile(bt_logits(pc, l2), (rounds, 1))  # (R, M)
    eye = l2 * np.eye(pc.m)
    p_idx = np.arange(pc.i.size)
    # incidence (P, M): +1 at i, -1 at j, so grad = resid @ inc; and the Hessian scatter (P, M*M):
    # h_p lands on (i,i), (j,j) with +1 and on (i,j), (j,i) with -1.
    ones = np.ones(p_idx.size)
    inc = sparse.csr_matrix((np.r_[ones, -ones], (np.r_[p_idx, p_idx], np.r_[pc.i, pc.j])), shape=(pc.i.size, pc.m))
    cells = np.r_[pc.i * (pc.m + 1), pc.j * (pc.m + 1), pc.i * pc.m + pc.j, pc.j * pc.m + pc.i]
    scatter = sparse.csr_matrix((np.r_[ones, ones, -ones, -ones], (np.tile(p_idx, 4), cells)),
                                shape=(pc.i.size, pc.m * pc.m))

    def loss_of(th, w, n):
        d = th[:, pc.i] - th[:, pc.j]
        return -(w * log_expit(d) + (n - w) * log_expit(-d)).sum(1) + 0.5 * l2 * (th * th).sum(1)

    loss = loss_of(theta, w, n)
    active = np.arange(rounds)  # rounds still moving; converged ones drop out of the work
    for _ in range(iters):
        th, wa, na = theta[active], w[active], n[active]
        s = expit(th[:, pc.i] - th[:, pc.j])
        grad = np.asarray((inc.T @ (na * s - wa).T).T) + l2 * th
        hess = np.asarray((scatter.T @ (na * s * (1 - s)).T).T).reshape(-1, pc.m, pc.m) + eye  # (A, M, M)
        with _one_blas_thread():
            step = np.linalg.solve(hess, grad[..., None])[..., 0]
        step = step / np.maximum(1.0, np.abs(step).max(1, keepdims=True) / 2.0)  # at most 2 logits
        moving = np.abs(step).max(1) >= 1e-7  # 1e-7 logits = 2e-5 rating points
        active, th, step, wa, na = active[moving], th[moving], step[moving], wa[moving], na[moving]
        if active.size == 0:
            break
        old = loss[active]
        scale = np.ones((active.size, 1))
        for _ in range(20):  # backtracking per round: keep only steps that do not raise the loss
            cand = th - scale * step
            new_loss = loss_of(cand, wa, na)
            bad = new_loss > old + 1e-9 * np.abs(old)
            if not bad.any():
                break
            scale[bad] *= 0.5
        theta[active] = np.where(bad[:, None], th, cand)
        loss[active] = np.where(bad, old, new_loss)
    return theta - theta.mean(1, keepdims=True)


# ---------------------------------------------------------------- tables


def ratings(battles: Battles, method: str = "bt", k: float = 4.0) -> np.ndarray:
    if battles.n == 0:
        raise LabError("arena.no_votes")
    if method == "elo":
        return elo(battles, k)
    if method == "bt":
        return bradley_terry(battles)
    raise LabError("arena.bad_method", method=method)


def bootstrap(battles: Battles, rounds: int, method: str = "bt", k: float = 4.0, seed: int = 0) -> np.ndarray:
    return elo_bootstrap(battles, rounds, k, seed) if method == "elo" else bt_bootstrap(battles, rounds, seed=seed)


def matrices(battles: Battles) -> tuple[np.ndarray, np.ndarray]:
    """(win_rate, count), each float64 (M, M): count[i, j] battles between i and j; win_rate[i, j]
    the share i won (ties as halves), NaN where they never met."""
    m = len(battles.models)
    count = np.zeros((m, m))
    won = np.zeros((m, m))
    np.add.at(count, (battles.a, battles.b), 1)
    np.add.at(won, (battles.a, battles.b), battles.outcome)
    np.add.at(won, (battles.b, battles.a), 1 - battles.outcome)
    count = count + count.T
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, won / count, np.nan), count


def expected_win_rate(rating: np.ndarray) -> np.ndarray:
    """P(i beats j) predicted by ratings (M,) → (M, M)."""
    return 1.0 / (1.0 + BASE ** ((rating[None, :] - rating[:, None]) / SCALE))


def leaderboard(battles: Battles, method: str = "bt", bootstrap_rounds: int = 0, k: float = 4.0,
                seed: int = 0, min_votes: int = MIN_VOTES) -> list[dict]:
    """Rows best first: rank, model, rating (of `method`), ci_low/ci_high (95 %), ci ('bootstrap',
    'hessian' or None), bt and elo (both methods, same scale), votes, wins/ties/losses, enough.

    Intervals: percentiles of `bootstrap_rounds` resamples; without resampling, BT's come from the
    Hessian (± 1.96 standard errors) and Elo has none. Rank as on the Arena: 1 + the ranked models
    whose interval lies wholly above this one's. A model with fewer than `min_votes` votes has
    rank None and enough False ("not enough votes yet") and is listed after the ranked ones."""
    r = ratings(battles, method, k)
    m = len(battles.models)
    votes, wins, ties = (np.zeros(m) for _ in range(3))
    np.add.at(votes, battles.a, 1)
    np.add.at(votes, battles.b, 1)
    np.add.at(wins, battles.a, battles.outcome == 1.0)
    np.add.at(wins, battles.b, battles.outcome == 0.0)
    np.add.at(ties, battles.a, battles.outcome == 0.5)
    np.add.at(ties, battles.b, battles.outcome == 0.5)
    lo = hi = r
    ci = None
    if bootstrap_rounds:
        samples = bootstrap(battles, bootstrap_rounds, method, k, seed)
        lo, hi, ci = np.percentile(samples, 2.5, axis=0), np.percentile(samples, 97.5, axis=0), "bootstrap"
    if method == "bt":
        # a bootstrap only resamples what was seen: six votes all won by x resample to x always
        # winning, an interval far too narrow. The Hessian's sees the prior too; keep the wider.
        _, sd = bt_hessian_sd(battles)
        lo, hi = np.minimum(lo, r - Z95 * sd), np.maximum(hi, r + Z95 * sd)
        ci = ci or "hessian"
    both = {"bt": r if method == "bt" else bradley_terry(battles), "elo": r if method == "elo" else elo(battles, k)}
    enough = votes >= min_votes
    rows = []
    order = sorted(range(m), key=lambda x: (not enough[x], -r[x]))
    for x in order:
        rows.append({
            "rank": int(1 + (enough & (lo > hi[x])).sum()) if enough[x] else None,
            "model": battles.models[x], "rating": round(float(r[x]), 2),
            "ci_low": round(float(lo[x]), 2) if ci else None, "ci_high": round(float(hi[x]), 2) if ci else None,
            "ci": ci, "bt": round(float(both["bt"][x]), 2), "elo": round(float(both["elo"][x]), 2),
            "votes": int(votes[x]), "wins": int(wins[x]), "ties": int(ties[x]),
            "losses": int(votes[x] - wins[x] - ties[x]), "enough": bool(enough[x]),
        })
    return rows


def synthetic(strengths: dict[str, float], n: int, seed: int = 0, tie_rate: float = 0.1) -> list[dict]:
    """Votes drawn from true ratings (Elo scale): random pairs, P(a wins | no tie) from BT."""
    rng = np.random.default_rng(seed)
    names = list(strengths)
    r = np.array([strengths[x] for x in names])
    a = rng.integers(0, len(names), n)
    b = (a + rng.integers(1, len(names), n)) % len(names)  # never a self-battle
    p = 1.0 / (1.0 + BASE ** ((r[b] - r[a]) / SCALE))
    u, t = rng.random(n), rng.random(n)
    winner = np.where(t < tie_rate, "tie", np.where(u < p, "model_a", "model_b"))
    return [{"model_a": names[x], "model_b": names[y], "winner": str(w)} for x, y, w in zip(a, b, winner)]
