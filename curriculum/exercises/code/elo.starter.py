def elo_update(r_a: float, r_b: float, score_a: float, k: float) -> tuple[float, float]:
    """Ratings of A and B before one battle; score_a is 1 (A won), 0 (B won) or 0.5 (tie).
    Return their ratings after it, (new_r_a, new_r_b), with the usual base 10 and scale 400."""
    raise NotImplementedError
