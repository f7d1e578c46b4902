"""ZeroGPU, where there is one: `@gpu(duration=…)` is `spaces.GPU` on a ZeroGPU Space and a plain call
everywhere else (a laptop, a class server, a CPU Space), so one code path serves all of them.

    from apps.space.gpu import gpu
    @gpu(duration=60)
    def answer(...): ...            # gets a GPU for up to 60 s per call on ZeroGPU

ZeroGPU lends a GPU per call of a decorated function, from a Gradio handler, up to a daily quota per
visitor. When the quota is spent the call fails; `gpu` turns that into a LabError in the visitor's
language ("space.gpu_quota") and the lab carries on on CPU where the work allows it (`fallback`).
"""
from __future__ import annotations

import functools

from apps.errors import LabError

QUOTA_WORDS = ("quota", "GPU task aborted", "exceeded")


def zero_gpu() -> bool:
    """True on a ZeroGPU Space (the spaces package reads SPACES_ZERO_GPU)."""
    try:
        from spaces.config import Config
    except ImportError:
        return False
    return bool(Config.zero_gpu)


def _is_quota(exc: Exception) -> bool:
    text = str(exc)
    return any(word.lower() in text.lower() for word in QUOTA_WORDS)


def gpu(duration: int = 60, fallback=None):
    """Decorator. On ZeroGPU: spaces.GPU(duration=duration); when the visitor's quota is spent, call
    `fallback` (same arguments, CPU) if given, else raise LabError("space.gpu_quota").
    Elsewhere the function is returned unchanged."""
    def wrap(fn):
        if not zero_gpu():
            return fn
        import spaces

        lent = spaces.GPU(duration=duration)(fn)

        @functools.wraps(fn)
        def call(*args, **kwargs):
            try:
                return lent(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - only the quota case is ours to translate
                if not _is_quota(exc):
                    raise
                if fallback is not None:
                    return fallback(*args, **kwargs)
                raise LabError("space.gpu_quota") from exc

        return call

    return wrap
