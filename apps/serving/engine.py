"""Runs the lab's models for the API: one generation at a time per model, a bounded queue, embeddings.

Generation on CPU is compute-bound, so two requests for the same model interleaving would only slow
both. Each request therefore waits for its model's `LoadedModel.lock` on a worker thread, in arrival
order; different models run side by side. At most `max_pending` requests may be waiting or running;
one more gets HTTP 429 (with Retry-After) instead of an ever-growing queue.
"""
from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from apps.errors import LabError
from apps.models import registry
from apps.models.generation import MAX_NEW_TOKENS, GenerationConfig, encode, render_prompt, stream
from apps.serving.schemas import ServingError

_ERRORS = {  # LabError key → (HTTP status, OpenAI error code)
    "models.unknown": (404, "model_not_found"),
    "models.offline_miss": (404, "model_not_found"),
    "models.not_generative": (400, "invalid_model"),
    "gen.too_long": (400, "context_length_exceeded"),
    "gen.empty_prompt": (400, "invalid_value"),
    "gen.bad_param": (400, "invalid_value"),
}


def to_serving_error(exc: LabError) -> ServingError:
    status, code = _ERRORS.get(exc.key, (500, None))
    return ServingError(status, exc.message("en"), "invalid_request_error" if status < 500 else "server_error", code)


@dataclass
class Prepared:
    """A validated generation request: the model, the exact prompt text and its length."""

    lm: object
    prompt: str | list[dict]
    prompt_tokens: int
    cfg: GenerationConfig


class Engine:
    def __init__(self, cache=None, max_pending: int | None = None):
        from apps.models import default_cache

        self.cache = cache or default_cache()
        self.max_pending = max_pending or int(os.environ.get("LLMLAB_API_MAX_PENDING", "8"))
        self._pool = ThreadPoolExecutor(max_workers=self.max_pending, thread_name_prefix="llmlab-api")
        self._pending = 0
        self._lock = threading.Lock()

    # ------------------------------------------------------------ bookkeeping

    def model_ids(self) -> list[str]:
        return registry.names(offline_only=False)

    def _admit(self) -> None:
        with self._lock:
            if self._pending >= self.max_pending:
                raise ServingError(429, f"The server is busy ({self.max_pending} requests queued). Retry shortly.",
                                   "rate_limit_exceeded", "rate_limit_exceeded", headers={"Retry-After": "1"})
            self._pending += 1

    def _release(self) -> None:
        with self._lock:
            self._pending -= 1

    async def _run(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def _load(self, name: str, want: str):
        """want: 'generate' or 'embed'. Only registry names are served (no arbitrary folders)."""
        if name not in self.model_ids():
            raise ServingError(404, f"The model '{name}' does not exist. Available: {', '.join(self.model_ids())}.",
                               code="model_not_found", param="model")
        spec = registry.resolve(name)
        if want == "generate" and spec.kind == registry.EMBEDDING:
            raise ServingError(400, f"'{name}' is an embedding model; use /v1/embeddings.", code="invalid_model", param="model")
        if want == "embed" and spec.kind != registry.EMBEDDING:
            raise ServingError(400, f"'{name}' is not an embedding model.", code="invalid_model", param="model")
        try:
            return self.cache.get(name, variant="st" if want == "embed" else "lm")
        except LabError as exc:
            raise to_serving_error(exc) from exc

    # ------------------------------------------------------------ generation

    def _prepare(self, name: str, prompt, cfg: GenerationConfig, max_tokens: int | None) -> Prepared:
        lm = self._load(name, "generate")
        try:
            text = render_prompt(lm, prompt)
        except LabError as exc:
            raise to_serving_error(exc) from exc
        n_prompt = len(encode(lm, text))
        ctx = lm.context_length
        room = ctx - n_prompt
        if max_tokens is None:  # as much as fits, within a CPU-friendly default
            cfg.max_new_tokens = max(1, min(cfg.max_new_tokens, room))
        if n_prompt + cfg.max_new_tokens > ctx or cfg.max_new_tokens > MAX_NEW_TOKENS:
            raise ServingError(
                400, f"This model's maximum context length is {ctx} tokens. However, you requested "
                     f"{n_prompt + cfg.max_new_tokens} tokens ({n_prompt} in the messages, {cfg.max_new_tokens} in "
                     f"the completion; at most {MAX_NEW_TOKENS} per request). Please reduce the length.",
                code="context_length_exceeded", param="max_tokens" if room > 0 else "messages")
        try:
            cfg.validate()
        except LabError as exc:
            raise to_serving_error(exc) from exc
        return Prepared(lm, prompt, n_prompt, cfg)

    async def prepare(self, name: str, prompt, cfg: GenerationConfig, max_tokens: int | None) -> Prepared:
        """Load the model and check the request before any response byte is sent. Runs outside the
        generation pool, so a full queue can still turn away new requests at once (429)."""
        return await asyncio.to_thread(self._prepare, name, prompt, cfg, max_tokens)

    def _generate_sync(self, prep: Prepared, cancel: threading.Event, on_chunk=None):
        with prep.lm.lock:  # one generation per model at a time; others wait here in order
            last = None
            for last in stream(prep.lm, prep.prompt, prep.cfg, cancel=cancel):
                if on_chunk is not None and not last.done:
                    on_chunk(last.text)
            return last.result

    async def generate(self, prep: Prepared):
        """GenerationResult for a prepared request (queued behind others for the same model)."""
        self._admit()
        try:
            return await self._run(self._generate_sync, prep, threading.Event())
        except LabError as exc:
            raise to_serving_error(exc) from exc
        finally:
            self._release()

    async def stream_text(self, prep: Prepared):
        """Async iterator of ('delta', str) items, then ('done', GenerationResult). A client that
        disconnects cancels generation at the next token."""
        self._admit()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        cancel = threading.Event()
        sent = [""]

        def on_chunk(text: str) -> None:
            # Runs on the worker thread: hand each new piece of text to the event loop. The engine
            # already holds back half characters and a tail that could still become a stop string.
            if text.startswith(sent[0]) and len(text) > len(sent[0]):
                delta, sent[0] = text[len(sent[0]):], text
                loop.call_soon_threadsafe(queue.put_nowait, ("delta", delta))

        future = loop.run_in_executor(self._pool, self._generate_sync, prep, cancel, on_chunk)
        future.add_done_callback(lambda f: loop.call_soon_threadsafe(queue.put_nowait, ("end", None)))
        try:
            while True:
                kind, value = await queue.get()
                if kind == "end":
                    break
                yield kind, value
            result = future.result()  # raises what the worker raised
            # Text held back while it might have been the start of a stop string arrives at the end.
            if result.text.startswith(sent[0]) and len(result.text) > len(sent[0]):
                yield "delta", result.text[len(sent[0]):]
            yield "done", result
        except LabError as exc:
            raise to_serving_error(exc) from exc
        finally:
            cancel.set()
            self._release()

    # ------------------------------------------------------------ embeddings

    def _embed_sync(self, name: str, texts: list[str]):
        st = self._load(name, "embed")
        with st.lock:
            vectors = st.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)  # (N, D) float32
        n_tokens = sum(len(st.tokenizer(t, add_special_tokens=True)["input_ids"]) for t in texts)
        return vectors, n_tokens

    async def embed(self, name: str, texts: list[str]):
        self._admit()
        try:
            return await self._run(self._embed_sync, name, texts)
        finally:
            self._release()
