import torch


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    """logits: (batch, vocab) float. Return a copy in which every token outside the nucleus (the
    smallest set of most likely tokens whose probability reaches p) is set to -inf."""
    # 1. sort each row from most to least likely (torch.sort, descending=True)
    # 2. softmax, then the running total (cumsum) of the sorted probabilities
    # 3. decide which sorted positions to drop; always keep the first one
    # 4. put the decision back in vocabulary order (scatter) and fill with float("-inf")
    raise NotImplementedError
