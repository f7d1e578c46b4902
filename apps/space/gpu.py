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
import inspect

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


def gpu(duration=60, fallback=None):
    """Decorator. On ZeroGPU: spaces.GPU(duration=duration) (seconds, or a function of the call's
    arguments giving them); when the visitor's quota is spent, call
    `fallback` (same arguments, CPU) if given, else raise LabError("space.gpu_quota").
    Elsewhere the function is returned unchanged."""
    def wrap(fn):
        if not zero_gpu():
            return fn
        import spaces

        lent = spaces.GPU(duration=duration)(fn)

        def refused(exc, args, kwargs):
            if not _is_quota(exc):
                raise exc
            if fallback is not None:
                return fallback(*args, **kwargs)
            raise LabError("space.gpu_quota") from exc

        if inspect.isgeneratorfunction(fn):  # a streamed reply: the quota may run out before the first item
            @functools.wraps(fn)
            def stream(*args, **kwargs):
                started = False
                try:
                    for item in lent(*args, **kwargs):
                        started = True
                        yield item
                except Exception as exc:  # noqa: BLE001 - only the quota case is ours to translate
                    if started:
                        raise
                    yield from refused(exc, args, kwargs)

            return stream

        @functools.wraps(fn)
        def call(*args, **kwargs):
            try:
                return lent(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - only the quota case is ours to translate
                return refused(exc, args, kwargs)

        return call

    return wrap
