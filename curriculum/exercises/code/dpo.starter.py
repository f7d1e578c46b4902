import math


def dpo_loss(pi_chosen: float, pi_rejected: float, ref_chosen: float, ref_rejected: float, beta: float) -> float:
    """Sequence log-probabilities (log π(y|x), summed over the reply's tokens) of the chosen and
    rejected replies under the policy (pi_*) and the reference model (ref_*). Return the DPO loss
    -log σ(β · [(pi_chosen − ref_chosen) − (pi_rejected − ref_rejected)])."""
    raise NotImplementedError
