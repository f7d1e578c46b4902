"""Worked solution: one Elo update."""


def elo_update(r_a: float, r_b: float, score_a: float, k: float) -> tuple[float, float]:
    # The chance that A wins, from the rating gap (400 points = 10:1 odds).
    expected_a = 1.0 / (1.0 + 10 ** ((r_b - r_a) / 400))
    # A gains what B loses: k times how much better A did than expected (a tie scores 0.5).
    change = k * (score_a - expected_a)
    return r_a + change, r_b - change
