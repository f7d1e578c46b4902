"""Generation on a ZeroGPU Space.

ZeroGPU lends a GPU per call of a `spaces.GPU` function, inside a worker process forked from the
server, and takes it back when the call returns. The shared scheduler thread that batches a class
(apps.models.batching) cannot hold such a GPU, so on ZeroGPU each request's generation runs inside one
lent call instead: `stream()` sends (model name, prompt, settings) to the worker, which runs the same
`generation` code path there (the model moved to CUDA once per worker, its own engine) and streams the
chunks back. Batching across visitors is given up there; everywhere else nothing changes.

Duration: ZeroGPU charges the declared seconds against the visitor's daily quota and stops a call
that overruns, so each call asks for what its `max_new_tokens` needs at a cautious rate, 15–120 s.

When ZeroGPU refuses the call because the visitor's daily quota is spent, the reply comes from the
server's shared engine on CPU instead, and `events()` says so once, first (an `OnCpu`), so the
Playground can tell the visitor; plain iteration (generate(), /v1, the Arena, RAG) sees only chunks.
Fine-tuning runs get their lent calls in apps.space.zerotrain.
"""
from __future__ import annotations

import dataclasses
import threading

from apps.models.batching import Queued
from apps.space.gpu import gpu, zero_gpu

_IN_WORKER = False  # set inside the lent call (a forked process): generation runs locally there
_ON_GPU: dict[str, object] = {}  # model name -> its LoadedModel moved to the lent device, per worker
_SLOW_TOKENS_PER_S = 8.0  # a cautious decode rate for the duration asked of ZeroGPU


@dataclasses.dataclass(frozen=True)
class OnCpu:
    """Yielded once by `LentReply.events()` before the chunks: ZeroGPU refused the call (the visitor's
    quota is spent), so this reply comes from the shared engine on CPU. `key`: the i18n notice."""

    key: str = "space.quota_on_cpu"


class LentReply:
    """One reply from `stream()`, read like a batching.Request: iterating yields StreamChunks only;
    `events()` also yields an OnCpu notice and, on the CPU engine, its Queued positions."""

    def __init__(self, source):
        self._source = source  # the wrapped generator: chunks, maybe preceded by OnCpu and Queued

    def events(self, poll: float = 1.0):
        yield from self._source

    def __iter__(self):
        for event in self._source:
            if not isinstance(event, (OnCpu, Queued)):
                yield event

    def close(self) -> None:
        self._source.close()


def active() -> bool:
    """True where generation must go through a lent GPU call: on ZeroGPU, outside the worker."""
    return zero_gpu() and not _IN_WORKER


def duration(model_name: str, prompt, cfg=None, system: str | None = None) -> int:
    """Seconds to ask of ZeroGPU for one reply: loading margin + max_new_tokens at a slow rate."""
    max_new = getattr(cfg, "max_new_tokens", 256) or 256
    beams = max(1, getattr(cfg, "num_beams", 1) or 1)
    return int(min(120, max(15, 10 + max_new * beams / _SLOW_TOKENS_PER_S)))


def _on_device(name: str):
    """The worker's copy of the model, moved to CUDA when the worker has it (once per worker). A
    fresh LoadedModel: the engine and lock copied by fork belong to the server's threads."""
    lm = _ON_GPU.get(name)
    if lm is None:
        import torch

        from apps.models import default_cache

        base = default_cache().get(name)
        device = "cuda" if torch.cuda.is_available() else base.device
        if device != base.device:
            base.model.to(device)
        lm = _ON_GPU[name] = dataclasses.replace(base, device=device, engine=None, lock=threading.Lock())
    return lm


def run_in_worker(model_name: str, prompt, cfg=None, system: str | None = None):
    """What runs inside the lent call: the lab's own generation on the worker's device."""
    global _IN_WORKER
    _IN_WORKER = True
    from apps.models.generation import stream

    yield from stream(_on_device(model_name), prompt, cfg, system=system)


def _on_cpu(model_name: str, prompt, cfg=None, system: str | None = None):
    """The visitor's GPU quota is spent: say so once, then the same reply from the server's shared
    engine, on CPU (with its queue positions while it waits for a place in the batch)."""
    from apps.models import default_cache
    from apps.models.generation import start

    yield OnCpu()
    req = start(default_cache().get(model_name), prompt, cfg, system=system, local=True)
    try:
        yield from (req.events(poll=1.0) if hasattr(req, "events") else req)
    finally:
        if hasattr(req, "close"):
            req.close()  # a reader that stops early frees its place in the batch


def lend():
    """The reply function as ZeroGPU sees it; built once at import, as spaces wants its GPU functions
    declared before the app launches (tests rebuild it under a faked `spaces`)."""
    return gpu(duration=duration, fallback=_on_cpu)(run_in_worker)


_lent = lend()


def stream(model_name: str, prompt, cfg=None, system: str | None = None) -> LentReply:
    """One reply generated in a ZeroGPU call (the plain local path off ZeroGPU): iterate it for
    StreamChunks, or read `events()` to hear about a CPU fallback."""
    return LentReply(_lent(model_name, prompt, cfg, system))
