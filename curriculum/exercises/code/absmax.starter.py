import torch


def absmax_int8(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """w: (out, in) float weights. Quantise each row with absmax int8: scale = max|row| / 127,
    q = round(w / scale) in [-127, 127]. Return (q, w_hat) where w_hat = q · scale (dequantised)."""
    raise NotImplementedError
