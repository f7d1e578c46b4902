"""The OpenAI-compatible HTTP routes: /v1/models, /v1/chat/completions, /v1/completions, /v1/embeddings.

Mounted on the UI server (apps/server.py MOUNTS → `mount(app)`, key from $LLMLAB_API_KEY if set)
and served alone by `llmlab api [--host 127.0.0.1 --port 7861 --api-key KEY]`. The official client
works unchanged:

    from openai import OpenAI
    client = OpenAI(base_url="http://127.0.0.1:7861/v1", api_key="EMPTY")
    client.chat.completions.create(model="smollm2-135m-instruct", messages=[{"role": "user", "content": "Hi"}])

Errors are OpenAI-shaped ({"error": {message, type, param, code}}): unknown model 404, malformed JSON
or too many tokens 400, wrong key 401, queue full 429 (with Retry-After, before a stream starts). A failing request never stops the server.
"""
from __future__ import annotations

import base64
import hmac
import json
import logging
import os
import time
import uuid

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from apps.models import registry
from apps.models.generation import GenerationConfig
from apps.serving.engine import Engine, client_id
from apps.serving.schemas import ChatRequest, CompletionRequest, EmbeddingRequest, ServingError, parse

log = logging.getLogger("llmlab.api")

DEFAULT_CHAT_TOKENS = 256  # when a chat request gives no max_tokens: enough for an answer, bounded on CPU


def _internal(exc: Exception) -> ServingError:
    return ServingError(500, f"The server had an error while processing your request ({type(exc).__name__}).",
                        "server_error", "internal_error")


def _error_response(exc: ServingError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


def _config(req, default_tokens: int) -> GenerationConfig:
    """OpenAI sampling parameters → GenerationConfig. Temperature 0 means greedy decoding; the API
    default (absent) is 1.0 with sampling, as in OpenAI's API."""
    temperature = 1.0 if req.temperature is None else req.temperature
    sample = temperature > 0
    max_tokens = getattr(req, "max_completion_tokens", None) or req.max_tokens
    return GenerationConfig(
        max_new_tokens=max_tokens or default_tokens, do_sample=sample, temperature=temperature if sample else 1.0,
        top_p=(req.top_p or 1.0) if sample else 1.0, seed=req.seed, stop=req.stops(), top_logprobs=0)


def _usage(result) -> dict:
    return {"prompt_tokens": result.prompt_tokens, "completion_tokens": result.completion_tokens,
            "total_tokens": result.prompt_tokens + result.completion_tokens}


def _finish(result) -> str:
    return "length" if result.finish_reason == "length" else "stop"


def _sse(payload) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"


def build_router(engine: Engine, api_key: str | None = None) -> APIRouter:
    router = APIRouter(prefix="/v1")

    def check_key(request: Request) -> None:
        if not api_key:
            return
        header = request.headers.get("authorization", "")
        given = header[7:].strip() if header.lower().startswith("bearer ") else ""
        if not hmac.compare_digest(given.encode(), api_key.encode()):
            raise ServingError(401, "Incorrect API key provided. Send it as 'Authorization: Bearer <key>'.",
                               code="invalid_api_key")

    def guarded(handler):
        """Every route: check the key, turn ServingError into an OpenAI-style JSON error."""
        async def endpoint(request: Request):
            try:
                check_key(request)
                return await handler(request)
            except ServingError as exc:
                return _error_response(exc)
            except Exception as exc:  # noqa: BLE001 - never a plain-text 500: OpenAI-shaped, server keeps serving
                log.exception("error in %s", request.url.path)
                return _error_response(_internal(exc))
        endpoint.__name__ = handler.__name__
        return endpoint

    async def models(request: Request):
        return {"object": "list", "data": [_model_card(m) for m in engine.model_ids()]}

    async def model(request: Request):
        name = request.path_params["name"]
        if name not in engine.model_ids():
            raise ServingError(404, f"The model '{name}' does not exist.", code="model_not_found", param="model")
        return _model_card(name)

    async def chat_completions(request: Request):
        req = parse(ChatRequest, await request.body())
        messages = [{"role": m.role, "content": m.text()} for m in req.messages]
        cfg = _config(req, DEFAULT_CHAT_TOKENS)
        prep = await engine.prepare(req.model, messages, cfg, req.max_completion_tokens or req.max_tokens,
                                    client_id(request))
        rid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        if not req.stream:
            result = await engine.generate(prep)
            return {"id": rid, "object": "chat.completion", "created": created, "model": req.model,
                    "system_fingerprint": None, "usage": _usage(result),
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": result.text},
                                 "logprobs": None, "finish_reason": _finish(result)}]}

        def chunk(delta: dict, finish=None) -> dict:
            return {"id": rid, "object": "chat.completion.chunk", "created": created, "model": req.model,
                    "system_fingerprint": None,
                    "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}

        admitted = engine.open(prep)  # a full line answers 429 here, before the stream starts

        async def events():
            yield _sse(chunk({"role": "assistant", "content": ""}))
            try:
                async for kind, value in admitted:
                    if kind == "delta":
                        yield _sse(chunk({"content": value}))
                    else:
                        yield _sse(chunk({}, _finish(value)))
                        if req.include_usage():
                            yield _sse({"id": rid, "object": "chat.completion.chunk", "created": created,
                                        "model": req.model, "choices": [], "usage": _usage(value)})
            except ServingError as exc:  # headers are sent already: report in-band, as OpenAI does
                yield _sse(exc.body())
            except Exception as exc:  # noqa: BLE001
                log.exception("error while streaming")
                yield _sse(_internal(exc).body())
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    async def completions(request: Request):
        req = parse(CompletionRequest, await request.body())
        prompts = [req.prompt] if isinstance(req.prompt, str) else req.prompt
        if len(prompts) != 1:
            raise ServingError(400, "This server takes one prompt per request.", param="prompt")
        cfg = _config(req, 16)
        prep = await engine.prepare(req.model, prompts[0], cfg, req.max_tokens, client_id(request))
        rid, created = f"cmpl-{uuid.uuid4().hex}", int(time.time())

        def body(text: str, finish, usage=None) -> dict:
            out = {"id": rid, "object": "text_completion", "created": created, "model": req.model,
                   "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": finish}]}
            if usage:
                out["usage"] = usage
            return out

        if not req.stream:
            result = await engine.generate(prep)
            return body(result.text, _finish(result), _usage(result))

        admitted = engine.open(prep)

        async def events():
            try:
                async for kind, value in admitted:
                    if kind == "delta":
                        yield _sse(body(value, None))
                    else:
                        yield _sse(body("", _finish(value), _usage(value) if req.include_usage() else None))
            except ServingError as exc:
                yield _sse(exc.body())
            except Exception as exc:  # noqa: BLE001
                log.exception("error while streaming")
                yield _sse(_internal(exc).body())
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    async def embeddings(request: Request):
        req = parse(EmbeddingRequest, await request.body())
        texts = req.texts()
        vectors, n_tokens = await engine.embed(req.model, texts)
        data = []
        for i, vec in enumerate(vectors):
            # base64 = little-endian float32 bytes, what the official client asks for by default
            value = base64.b64encode(vec.astype("<f4").tobytes()).decode() if req.encoding_format == "base64" \
                else vec.tolist()
            data.append({"object": "embedding", "index": i, "embedding": value})
        return {"object": "list", "data": data, "model": req.model,
                "usage": {"prompt_tokens": n_tokens, "total_tokens": n_tokens}}

    router.add_api_route("/models", guarded(models), methods=["GET"])
    router.add_api_route("/models/{name:path}", guarded(model), methods=["GET"])
    router.add_api_route("/chat/completions", guarded(chat_completions), methods=["POST"])
    router.add_api_route("/completions", guarded(completions), methods=["POST"])
    router.add_api_route("/embeddings", guarded(embeddings), methods=["POST"])
    return router


def _model_card(name: str) -> dict:
    """An OpenAI model object; `available_offline` (ours) says whether it runs without a download."""
    spec = registry.REGISTRY.get(name)
    offline = spec.offline if spec is not None else True
    card = {"id": name, "object": "model", "created": 0, "owned_by": "llmlab", "available_offline": offline}
    if not offline:
        card["note"] = "downloads from the Hugging Face hub on first use: needs internet"
    return card


def mount(app: FastAPI, cache=None, api_key: str | None = None) -> None:
    """Add the /v1 routes to an existing app (the UI server). Key: argument, else $LLMLAB_API_KEY."""
    key = api_key if api_key is not None else os.environ.get("LLMLAB_API_KEY") or None
    from apps.space.mode import api_open

    if not key and not api_open():  # a public Space is not a free model API: closed until its owner sets a key
        app.add_api_route("/v1/{path:path}", _closed, methods=["GET", "POST"], include_in_schema=False)
        return
    app.include_router(build_router(Engine(cache), key))


async def _closed(request: Request):
    from apps.i18n import lang_from_accept, t

    lang = lang_from_accept(request.headers.get("accept-language", ""))
    return _error_response(ServingError(403, t("space.api_closed", lang), code="api_closed"))


def create_app(cache=None, api_key: str | None = None) -> FastAPI:
    """A FastAPI app with only the API (what `llmlab api` serves)."""
    from apps.security.files import UploadLedger
    from apps.security.middleware import SecurityLayer, json_errors

    app = FastAPI(title="LLM 0→1 Lab API", docs_url="/docs")
    app.include_router(build_router(Engine(cache), api_key))
    json_errors(app)
    app.add_middleware(SecurityLayer, ledger=UploadLedger())  # bounded bodies, JSON errors
    return app


def serve(host: str = "127.0.0.1", port: int = 7861, api_key: str | None = None) -> None:
    import uvicorn

    # access_log off: request lines are harmless, but nothing here should ever print headers.
    uvicorn.run(create_app(api_key=api_key), host=host, port=port, log_level="warning", access_log=False)
