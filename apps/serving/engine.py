"""Runs the lab's models for the API: requests go to each model's batching engine, embeddings.

Generation goes through `apps.models.generation.start`, i.e. the model's continuous-batching engine
shared with the UI (apps/models/batching.py): a request is admitted (or refused with HTTP 429 and
Retry-After) before any response byte is sent, joins the running batch at the next step, and a client
that disconnects cancels its sequence. Tokens reach the event loop through a thread-safe sink, so
waiting streams hold no worker thread.
"""
from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass

from apps.errors import LabError
from apps.models import registry
from apps.models.generation import MAX_NEW_TOKENS, GenerationConfig, encode, render_prompt, start
from apps.serving.schemas import ServingError

_ERRORS = {  # LabError key → (HTTP status, OpenAI error code)
    "models.unknown": (404, "model_not_found"),
    "models.offline_miss": (404, "model_not_found"),
    "models.not_generative": (400, "invalid_model"),
    "gen.too_long": (400, "context_length_exceeded"),
    "gen.empty_prompt": (400, "invalid_value"),
    "gen.bad_param": (400, "invalid_value"),
    "gen.busy": (429, "rate_limit_exceeded"),
    "gen.busy_user": (429, "rate_limit_exceeded"),
}


def to_serving_error(exc: LabError) -> ServingError:
    status, code = _ERRORS.get(exc.key, (500, None))
    kind = "invalid_request_error" if status < 500 else "server_error"
    headers = {"Retry-After": str(exc.params.get("retry", 1))} if status == 429 else None
    return ServingError(status, exc.message("en"), "rate_limit_exceeded" if status == 429 else kind, code,
                        headers=headers)


def client_id(request) -> str:
    """Who is asking, for fair shares in the batch: the API key's digest, else the client address."""
    header = request.headers.get("authorization", "")
    if header:
        return "key:" + hashlib.sha256(header.encode()).hexdigest()[:12]
    return "ip:" + (request.client.host if request.client else "?")


@dataclass
class Prepared:
    """A validated generation request: the model, the exact prompt text and its length."""

    lm: object
    prompt: str | list[dict]
    prompt_tokens: int
    cfg: GenerationConfig
    user: str = "api"


class Engine:
    def __init__(self, cache=None):
        from apps.models import default_cache

        self.cache = cache or default_cache()

    # ------------------------------------------------------------ bookkeeping

    def model_ids(self) -> list[str]:
        from apps.models import llamacpp

        # "m+int8" quantised on first use; "m@llama.cpp" when the optional llama.cpp engine is installed
        return registry.names(offline_only=False) + registry.quantized_names() + llamacpp.served_ids()

    def _load(self, name: str, want: str):
        """want: 'generate' or 'embed'. Only registry names are served (no arbitrary folders)."""
        if name not in self.model_ids():
            raise ServingError(404, f"The model '{name}' does not exist. Available: {', '.join(self.model_ids())}.",
                               code="model_not_found", param="model")
        spec = registry.resolve(registry.split_quant(name)[0])  # "m+int8": quantised from "m" on first use
        if want == "generate" and spec.kind == registry.EMBEDDING:
            raise ServingError(400, f"'{name}' is an embedding model; use /v1/embeddings.", code="invalid_model", param="model")
        if want == "embed" and spec.kind != registry.EMBEDDING:
            raise ServingError(400, f"'{name}' is not an embedding model.", code="invalid_model", param="model")
        try:
            return self.cache.get(name, variant="st" if want == "embed" else "lm")
        except LabError as exc:
            raise to_serving_error(exc) from exc

    # ------------------------------------------------------------ generation

    def _prepare(self, name: str, prompt, cfg: GenerationConfig, max_tokens: int | None, user: str) -> Prepared:
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
        return Prepared(lm, prompt, n_prompt, cfg, user)

    async def prepare(self, name: str, prompt, cfg: GenerationConfig, max_tokens: int | None,
                      user: str = "api") -> Prepared:
        """Load the model and check the request before any response byte is sent."""
        return await asyncio.to_thread(self._prepare, name, prompt, cfg, max_tokens, user)

    def open(self, prep: Prepared) -> "OpenStream":
        """Admit the request into the model's batch now: a full line raises ServingError 429 (with
        Retry-After) here, before the route has sent a status line."""
        loop = asyncio.get_running_loop()
        events: asyncio.Queue = asyncio.Queue()
        try:
            req = start(prep.lm, prep.prompt, prep.cfg, user=prep.user,
                        sink=lambda kind, payload: loop.call_soon_threadsafe(events.put_nowait, (kind, payload)))
        except LabError as exc:
            raise to_serving_error(exc) from exc
        return OpenStream(events, req)

    async def generate(self, prep: Prepared):
        """GenerationResult for a prepared request (batched with everyone else's)."""
        result = None
        async for kind, value in self.open(prep):
            if kind == "done":
                result = value
        return result

    # ------------------------------------------------------------ embeddings

    def _embed_sync(self, name: str, texts: list[str]):
        st = self._load(name, "embed")
        with st.lock:
            vectors = st.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)  # (N, D) float32
        n_tokens = sum(len(st.tokenizer(t, add_special_tokens=True)["input_ids"]) for t in texts)
        return vectors, n_tokens

    async def embed(self, name: str, texts: list[str]):
        return await asyncio.to_thread(self._embed_sync, name, texts)


class OpenStream:
    """Async iterator of ('delta', str) items, then ('done', GenerationResult), for one admitted
    request. Closing it early (a client that disconnected) cancels the sequence at the next step."""

    def __init__(self, events: asyncio.Queue, req):
        self.events, self.req = events, req

    async def __aiter__(self):
        sent = ""
        try:
            while True:
                kind, value = await self.events.get()
                if kind == "error":
                    raise to_serving_error(value) if isinstance(value, LabError) else value
                if kind == "token":
                    # The engine holds back half characters and a tail that could still become a stop
                    # string, so each shown text extends the last one: send the difference.
                    if value.text.startswith(sent) and len(value.text) > len(sent):
                        yield "delta", value.text[len(sent):]
                        sent = value.text
                    continue
                result = value.result
                if result.text.startswith(sent) and len(result.text) > len(sent):
                    yield "delta", result.text[len(sent):]
                yield "done", result
                return
        finally:
            self.req.close()
