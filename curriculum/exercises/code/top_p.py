"""Worked solution: top-p (nucleus) filtering."""
import torch


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    # logits: (batch, vocab). Sort each row from most to least likely.
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
    probs = sorted_logits.softmax(dim=-1)
    # Probability mass of the tokens strictly before each one: a token is in the nucleus when the
    # tokens ahead of it have not yet reached p (so the token that crosses p is kept too).
    before = probs.cumsum(dim=-1) - probs
    drop_sorted = before >= p
    drop_sorted[..., 0] = False  # always keep the most likely token
    drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)  # back to vocabulary order
    return logits.masked_fill(drop, float("-inf"))
