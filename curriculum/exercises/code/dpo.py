"""Worked solution: the DPO loss of one preference pair."""
import math


def dpo_loss(pi_chosen: float, pi_rejected: float, ref_chosen: float, ref_rejected: float, beta: float) -> float:
    # Log-probabilities of the chosen and rejected replies under the policy and the frozen reference.
    # Implicit rewards: how much more likely the policy makes each reply than the reference did.
    margin = beta * ((pi_chosen - ref_chosen) - (pi_rejected - ref_rejected))
    # -log σ(margin), written so that a large |margin| neither overflows nor loses precision
    return math.log1p(math.exp(-abs(margin))) + max(-margin, 0.0)
