"""One generation engine per loaded model: continuous batching across every user of the lab.

    from apps.models.batching import engine_for
    req = engine_for(lm).submit(ids, cfg, max_new=32, user="li")   # raises LabError('gen.busy') when full
    for chunk in req:                                               # StreamChunk … then done=True
        ...

Every caller that generates (Playground, Arena, tasks, RAG answers, course checks, fine-tune "try",
/v1) reaches this through `apps.models.generation.start/stream/generate`. A scheduler thread per model
runs one loop: admit waiting requests (fairly: the user with the fewest running sequences first, then
arrival order), prefill at most `prefill_tokens` prompt tokens of newcomers, then one decode step for
every running sequence. Newcomers join the running batch as soon as their prefill is done and leave it
the step they finish, so a long reply never holds the door shut and a short prompt never waits for a
long one. Each sequence keeps its own sampling settings, seed (its own torch.Generator), stop strings,
cancel event, max tokens and per-token log-probabilities with top-k alternatives from the raw
distribution, exactly like the single-stream loop this replaced.

Why our own loop and not transformers' `generate_batch` / `ContinuousBatchingManager` (5.x, paged
cache): read, not benchmarked here, it returns only the chosen token's log-probability after the logits
processors, takes one generation config per manager (no per-request temperature/top-p/seed/stop) and
no top-k alternatives, so the token view could not stay exact. Here the batch is one transformers
`DynamicCache` with left padding (the layout `generate()` uses for a padded batch): joining pads the
shorter side on the left and concatenates rows; leaving selects rows and drops columns that are padding
in every row. Padding costs attention work, not weight reads, and weight reads are what a CPU decode
step pays for: bench/load.py measured 30 streams at 11.8x a lone stream's tokens/s on 2 cores.

Beam search stays outside the batch (generation.py runs it under the model's lock).
GPU and CPU share this path: tensors live on `lm.device`, in the model's dtype (bf16 on CUDA).
"""
from __future__ import annotations

import atexit
import os
import queue
import threading
import time
import weakref
from dataclasses import dataclass, field

import torch
from transformers import DynamicCache

from apps.errors import LabError
from apps.models.kvcache import Prefill, Prefixes, merge, trim

IDLE_EXIT_S = 30.0
# A prefill group may hold this many chunks' worth of prompt tokens. Its prefill still runs one chunk
# (prefill_tokens) per step between decode steps, so nobody's decode waits longer than before; a class
# that asks at once starts in fewer, larger groups, and a shared system prompt is computed once for all.
GROUP_CHUNKS = 4  # a scheduler with nothing to do for this long ends; the next request restarts it


def _env_int(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


@dataclass
class Queued:
    """Yielded by `Request.events()` while the request still waits for a place in the batch."""

    position: int  # 1 = next to be admitted


@dataclass
class Request:
    """One sequence's life in the engine. Its consumer reads it; only the scheduler writes it."""

    ids: list[int]  # the prompt's token ids
    cfg: object  # GenerationConfig (validated)
    max_new: int
    user: str
    cancel: threading.Event
    prompt_text: str = ""
    sink: object = None  # callable(kind, payload); default: this request's own queue
    seed: int | None = None
    arrived: float = field(default_factory=time.perf_counter)
    # scheduler state
    new_ids: list[int] = field(default_factory=list)
    tokens: list = field(default_factory=list)
    reply: str = ""
    ttft: float = 0.0
    admitted: float = 0.0
    generator: torch.Generator | None = None
    procs: object = None
    solo: bool = False  # its group's prefill failed: retried alone so only the culprit fails
    closed: bool = False  # its consumer went away (the caller's cancel event may be shared: leave it)
    engine: "BatchEngine | None" = None
    _queue: queue.Queue = field(default_factory=queue.Queue)

    def emit(self, kind: str, payload) -> None:
        (self.sink or (lambda k, p: self._queue.put((k, p))))(kind, payload)

    def stopped(self) -> bool:
        return self.closed or self.cancel.is_set()

    def close(self) -> None:
        """The consumer stops reading: the sequence ends at the next step and frees its slot."""
        self.closed = True

    def position(self) -> int:
        """1-based place in the waiting line; 0 once running (or finished)."""
        return self.engine.position(self) if self.engine else 0

    def events(self, poll: float = 1.0):
        """StreamChunk items, with a `Queued(position)` every `poll` seconds spent waiting in line."""
        while True:
            try:
                kind, payload = self._queue.get(timeout=poll)
            except queue.Empty:
                pos = self.position()
                if pos:
                    yield Queued(pos)
                continue
            if kind == "error":
                raise payload
            yield payload
            if kind == "done":
                return

    def __iter__(self):
        for event in self.events(poll=3600):
            if not isinstance(event, Queued):
                yield event


class BatchEngine:
    """Continuous batching for one LoadedModel (a base model, or a base + adapter as its own group)."""

    def __init__(self, lm, max_batch: int | None = None, prefill_tokens: int | None = None,
                 max_waiting: int | None = None, per_user_waiting: int | None = None, dtype: str | None = None):
        self.lm = lm
        self.model = _serving_model(lm, dtype or os.environ.get("LLMLAB_ENGINE_DTYPE", ""))
        self.max_batch = max_batch or _env_int("LLMLAB_MAX_BATCH", 32)
        self.prefill_tokens = prefill_tokens or _env_int("LLMLAB_PREFILL_TOKENS", 256)
        self.max_waiting = max_waiting or _env_int("LLMLAB_MAX_WAITING", 256)
        self.per_user_waiting = per_user_waiting or _env_int("LLMLAB_PER_USER_WAITING", 32)
        self._cond = threading.Condition()
        self._waiting: list[Request] = []
        self._thread: threading.Thread | None = None
        # The running batch, touched by the scheduler thread only.
        self._rows: list[Request] = []
        self._cache: DynamicCache | None = None
        self._mask: torch.Tensor | None = None  # (B, T) long: 1 = real token, 0 = left padding
        self._last: torch.Tensor | None = None  # (B, 1) the token each row feeds next
        self._group: Prefill | None = None
        self._pieces: dict[int, tuple[str, bytes]] = {}  # token id → (screen text, bytes); decode is pure
        self.prefixes = Prefixes(self)
        self._stopping = False  # set at interpreter exit: the scheduler ends at its next turn
        _ALL.add(self)
        self.steps = 0  # decode steps run (for benches and tests)
        self.max_rows_seen = 0

    # ---------------------------------------------------------------- callers' side

    def submit(self, ids: list[int], cfg, max_new: int, user: str = "local", cancel=None,
               prompt_text: str = "", sink=None, seed: int | None = None, procs=None,
               generator: torch.Generator | None = None) -> Request:
        """Queue a request; raises LabError('gen.busy') at once when the line is full (→ HTTP 429).
        procs: the request's LogitsProcessorList (penalty, temperature, top-k/p, min-p)."""
        req = Request(ids=list(ids), cfg=cfg, max_new=max_new, user=user or "local",
                      cancel=cancel or threading.Event(), prompt_text=prompt_text, sink=sink, seed=seed,
                      engine=self, procs=procs, generator=generator)
        with self._cond:
            if len(self._waiting) >= self.max_waiting:
                raise LabError("gen.busy", n=len(self._waiting), retry=self.retry_after())
            mine = sum(1 for r in self._waiting if r.user == req.user)
            if mine >= self.per_user_waiting:
                raise LabError("gen.busy_user", n=mine, retry=self.retry_after())
            self._waiting.append(req)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, daemon=True,
                                                name=f"llmlab-engine-{self.lm.name}")
                self._thread.start()
            self._cond.notify()
        return req

    def position(self, req: Request) -> int:
        with self._cond:
            try:
                return self._order().index(req) + 1
            except ValueError:
                return 0

    def retry_after(self) -> int:
        """Seconds a refused client should wait: roughly how long the line ahead takes to move."""
        return max(1, min(30, len(self._waiting) // max(1, self.max_batch)))

    def load(self) -> dict:
        with self._cond:
            return {"waiting": len(self._waiting), "running": len(self._rows) + (len(self._group.reqs) if self._group else 0),
                    "max_batch": self.max_batch}

    # ---------------------------------------------------------------- admission

    def _order(self) -> list[Request]:
        """The waiting line in admission order: fewest running sequences per user first, then arrival.
        Called with the condition held."""
        running: dict[str, int] = {}
        for r in self._rows + (self._group.reqs if self._group else []):
            running[r.user] = running.get(r.user, 0) + 1
        order, counts = [], dict(running)
        pending = list(self._waiting)
        while pending:
            best = min(pending, key=lambda r: (counts.get(r.user, 0), r.arrived))
            pending.remove(best)
            order.append(best)
            counts[best.user] = counts.get(best.user, 0) + 1
        return order

    def _admit(self) -> list[Request]:
        """Pick newcomers for one prefill group within the batch room and the prefill budget."""
        room = self.max_batch - len(self._rows)
        picked, tokens = [], 0
        for req in self._order():
            if len(picked) >= room:
                break
            if picked and (req.solo or picked[0].solo or tokens + len(req.ids) > GROUP_CHUNKS * self.prefill_tokens):
                break
            picked.append(req)
            tokens += len(req.ids)
        for req in picked:
            self._waiting.remove(req)
        return picked

    # ---------------------------------------------------------------- the scheduler loop

    def _loop(self) -> None:
        idle_since = time.monotonic()
        while not self._stopping:
            picked = []
            with self._cond:
                for req in [r for r in self._waiting if r.stopped()]:
                    self._waiting.remove(req)
                    self._finish(req, "cancelled")
                if self._group is None and self._waiting and len(self._rows) < self.max_batch:
                    picked = self._admit()
                if not self._rows and self._group is None and not picked:
                    if time.monotonic() - idle_since > IDLE_EXIT_S:
                        self._thread = None
                        return
                    self._cond.wait(timeout=1.0)
                    continue
            idle_since = time.monotonic()
            with torch.inference_mode():
                if picked:
                    self._start_group(picked)
                if self._group is not None:
                    self._prefill_step()
                if self._rows:
                    self._decode_step()

    def _start_group(self, picked: list[Request]) -> None:
        try:
            group = Prefill(self, picked)
        except Exception as exc:  # noqa: BLE001 - e.g. a bad prompt in the shared-prefix pass
            self._retry_alone(picked, exc)
            return
        with self._cond:  # position() and load() read the group under the condition
            self._group = group

    def _retry_alone(self, reqs: list[Request], exc: Exception) -> None:
        """A group's prefill failed: one request fails; several go back to the front of the line to be
        retried one by one, so only the culprit fails and the others go on."""
        if len(reqs) == 1:
            self._fail(reqs[0], exc)
            return
        for req in reqs:
            req.solo = True
        with self._cond:
            self._waiting[:0] = reqs

    def _prefill_step(self) -> None:
        group = self._group
        try:
            logits = group.step()
        except Exception as exc:  # noqa: BLE001 - a bad prompt must fail alone, not its group
            with self._cond:
                self._group = None
            self._retry_alone(group.reqs, exc)
            return
        if logits is None:
            return  # more chunks to go
        with self._cond:
            self._group = None
        now = time.perf_counter()
        for req in group.reqs:
            req.admitted = now
        keep = self._choose(group.reqs, logits)
        if not keep:
            return
        idx = torch.tensor(keep, device=group.mask.device)
        if len(keep) < len(group.reqs):
            group.cache.batch_select_indices(idx)
        reqs = [group.reqs[i] for i in keep]
        mask, last = group.mask[idx], group.next_tokens(reqs)
        if self._cache is None:
            self._cache, self._mask, self._last, self._rows = group.cache, mask, last, reqs
        else:
            self._cache, self._mask = merge(self._cache, self._mask, group.cache, mask)
            self._last = torch.cat([self._last, last])
            self._rows = self._rows + reqs
        self.max_rows_seen = max(self.max_rows_seen, len(self._rows))

    def _decode_step(self) -> None:
        try:
            positions = self._mask.sum(dim=1, keepdim=True)  # (B, 1): each row's next position
            self._mask = torch.cat([self._mask, torch.ones_like(self._last)], dim=1)
            out = self.model(input_ids=self._last, attention_mask=self._mask, position_ids=positions,
                                cache=self._cache, use_cache=True)  # the cache grows in place
            logits = out.logits[:, -1, :].float()  # (B, V)
        except Exception as exc:  # noqa: BLE001 - the model itself failed: nobody in this batch can go on
            for req in self._rows:
                self._fail(req, exc)
            self._rows, self._cache, self._mask, self._last = [], None, None, None
            return
        self.steps += 1
        keep = self._choose(self._rows, logits)
        if len(keep) == len(self._rows):
            self._last = torch.tensor([[r.new_ids[-1]] for r in self._rows], device=self._mask.device)
            return
        if not keep:
            self._rows, self._cache, self._mask, self._last = [], None, None, None
            return
        idx = torch.tensor(keep, device=self._mask.device)
        self._cache.batch_select_indices(idx)
        self._rows = [self._rows[i] for i in keep]
        self._mask = self._mask[idx]
        self._cache, self._mask = trim(self._cache, self._mask)
        self._last = torch.tensor([[r.new_ids[-1]] for r in self._rows], device=self._mask.device)

    # ---------------------------------------------------------------- per-sequence choices

    def _choose(self, reqs: list[Request], logits: torch.Tensor) -> list[int]:
        """Pick each row's next token from logits (B, V) float; emit it; return the rows that go on."""
        logprobs = torch.log_softmax(logits, dim=-1)  # (B, V): the raw distribution the token view shows
        k = max(r.cfg.top_logprobs for r in reqs)
        top_v = top_i = None
        if k:
            top_v, top_i = (t.tolist() for t in torch.topk(logprobs, k, dim=-1))
        plain = [i for i, r in enumerate(reqs) if not r.procs and not r.cfg.do_sample]
        greedy = {}
        if plain:
            greedy = dict(zip(plain, torch.argmax(logits[plain], dim=-1).tolist()))
        keep = []
        now = time.perf_counter()
        for i, req in enumerate(reqs):
            try:
                if req.stopped():
                    self._finish(req, "cancelled")
                    continue
                if i in greedy:
                    next_id = greedy[i]
                else:
                    next_id = self._pick(req, logits[i : i + 1])
                if not req.tokens and not req.ttft:
                    req.ttft = now - req.arrived
                if next_id in self.eos:
                    self._finish(req, "stop")
                    continue
                top = []
                if req.cfg.top_logprobs:
                    n = req.cfg.top_logprobs
                    top = [(self._piece(t)[0], t, v) for t, v in zip(top_i[i][:n], top_v[i][:n])]
                from apps.models.generation import TokenInfo, _cut_at_stop, _shown

                text, raw = self._piece(next_id)
                info = TokenInfo(id=next_id, text=text, logprob=float(logprobs[i, next_id]), top=top, raw=raw)
                req.tokens.append(info)
                req.new_ids.append(next_id)
                # Decode the whole reply: a Chinese character can span several byte tokens; a trailing
                # U+FFFD is half a character whose other bytes are still to come, so hold it back.
                decoded = self.lm.tokenizer.decode(req.new_ids, skip_special_tokens=True).rstrip("\ufffd")
                req.reply, stopped = _cut_at_stop(decoded, req.cfg.stop)
                if stopped:
                    self._finish(req, "stop")
                    continue
                from apps.models.generation import StreamChunk

                req.emit("token", StreamChunk(token=info, text=_shown(req.reply, req.cfg.stop)))
                if len(req.tokens) >= req.max_new:
                    self._finish(req, "length")
                    continue
                keep.append(i)
            except Exception as exc:  # noqa: BLE001 - one request's failure is its own
                self._fail(req, exc)
        return keep

    def _pick(self, req: Request, logits: torch.Tensor) -> int:
        """Sampling or penalised greedy for one row: logits (1, V)."""
        scores = logits
        if req.procs:
            history = torch.tensor([req.ids + req.new_ids], device=logits.device)
            scores = req.procs(history, logits)
        if req.cfg.do_sample:
            return int(torch.multinomial(torch.softmax(scores, dim=-1), 1, generator=req.generator)[0, 0])
        return int(torch.argmax(scores, dim=-1)[0])

    def _piece(self, token_id: int) -> tuple[str, bytes]:
        """(screen text, bytes) of a token, cached: apps.models.tokens.describe."""
        shown = self._pieces.get(token_id)
        if shown is None:
            from apps.models.tokens import describe

            shown = self._pieces[token_id] = describe(self.lm.tokenizer, token_id)
        return shown

    @property
    def eos(self) -> set[int]:
        if not hasattr(self, "_eos"):
            from apps.models.generation import _eos_ids

            self._eos = _eos_ids(self.lm)
        return self._eos

    def _finish(self, req: Request, reason: str) -> None:
        from apps.models.generation import GenerationResult, StreamChunk

        total = time.perf_counter() - req.arrived
        result = GenerationResult(
            text=req.reply, tokens=req.tokens, prompt=req.prompt_text, prompt_tokens=len(req.ids),
            completion_tokens=len(req.tokens), finish_reason=reason, ttft_s=req.ttft or total, total_s=total,
            seed=req.seed, queued_s=(req.admitted - req.arrived) if req.admitted else total,
        )
        req.emit("done", StreamChunk(token=None, text=req.reply, done=True, result=result))

    def _fail(self, req: Request, exc: Exception) -> None:
        if not isinstance(exc, LabError):
            exc = LabError("gen.failed", reason=f"{type(exc).__name__}: {exc}")
        req.emit("error", exc)


def _serving_model(lm, dtype: str):
    """The module the engine runs: the loaded model itself, or (LLMLAB_ENGINE_DTYPE=bf16 on a CPU) a
    bfloat16 copy of it, an experiment: decoding on a CPU is bound by reading the weights, and half the
    bytes ran a bare forward step 1.55x faster here, but a whole generate run was not faster
    (bench/load.py --single compares both). The token view then shows bf16 probabilities. Off by
    default: the lab's numbers match transformers' float32 ones."""
    if dtype not in ("bf16", "bfloat16") or lm.dtype == torch.bfloat16:
        return lm.model
    import copy

    return copy.deepcopy(lm.model).to(torch.bfloat16).eval()


_ENGINES_LOCK = threading.Lock()
_ALL: "weakref.WeakSet[BatchEngine]" = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    """End every scheduler thread before the interpreter tears torch down: a thread still alive in
    torch's thread pool at exit aborts the process ("terminate called without an active exception")."""
    for engine in list(_ALL):
        engine._stopping = True
        with engine._cond:
            engine._cond.notify_all()
        thread = engine._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)


def engine_for(lm) -> BatchEngine:
    """The one engine of this loaded model (created on first use, kept on the LoadedModel)."""
    engine = getattr(lm, "engine", None)
    if engine is None:
        with _ENGINES_LOCK:
            engine = getattr(lm, "engine", None)
            if engine is None:
                engine = lm.engine = BatchEngine(lm)
    return engine
