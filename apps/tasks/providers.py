"""Calling a chat model through an OpenAI-compatible API, or a registry model directly.

The one small API other stages reuse (Arena contestants and judges, RAG answers):

    from apps.tasks.providers import ProviderConfig, chat, stream_chat
    cfg = ProviderConfig("deepseek", api_key=key)                       # a preset
    cfg = ProviderConfig("custom", base_url="http://host:8000/v1", model="m")
    cfg = ProviderConfig("local", model="smollm2-135m-instruct")        # no HTTP at all
    text, usage = chat(cfg, [{"role": "user", "content": "你好"}], max_tokens=64, temperature=0)
    for delta in stream_chat(cfg, messages):  print(delta.delta, end="")

Parameters: temperature, top_p, max_tokens, stop, seed. HTTP errors become `LabError`s that say
in zh/en what happened and what to do (401 key, 429 rate limit, 5xx, timeout, malformed reply);
429 and 5xx (and connection drops) are retried with exponential backoff, honouring Retry-After.

The API key is a plain field of the config object the caller holds (a browser session's gr.State,
or an environment variable read by the CLI). This module never reads the environment for keys,
never logs a key and never writes one anywhere; `repr(cfg)` and `cfg.public()` leave it out.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import Iterator

from apps.errors import LabError

CNY, USD = "CNY", "USD"


@dataclass(frozen=True)
class Preset:
    """A provider learners use. Prices are per 1M tokens (input, output) and only approximate:
    list prices of late 2025 for the default model; check the provider's page before budgeting."""

    key: str
    label: tuple[str, str]  # (zh, en)
    base_url: str | None
    model: str
    env_var: str | None = None  # where the CLI looks for the key
    price_in: float = 0.0
    price_out: float = 0.0
    currency: str = CNY
    needs_key: bool = True
    key_site: str | None = None  # where a learner gets a key (shown in the API tab)


def _lab_base() -> str:
    return os.environ.get("LLMLAB_API_BASE", "http://127.0.0.1:7860/v1")


PRESETS: dict[str, Preset] = {
    p.key: p
    for p in [
        Preset("lab", ("本实验室的服务器", "This lab's server"), None, "smollm2-135m-instruct",
               "LLMLAB_API_KEY", needs_key=False),
        Preset("local", ("本机模型（不经过 HTTP）", "Registry model (no HTTP)"), None,
               "smollm2-135m-instruct", needs_key=False),
        Preset("deepseek", ("DeepSeek 深度求索", "DeepSeek"), "https://api.deepseek.com/v1", "deepseek-chat",
               "DEEPSEEK_API_KEY", 2.0, 3.0, key_site="https://platform.deepseek.com/api_keys"),
        Preset("qwen", ("通义千问（DashScope 兼容模式）", "Qwen (DashScope compatible mode)"),
               "https://dashscope.aliyuncs.com/compatible-mode/v1", "qwen-plus", "DASHSCOPE_API_KEY", 0.8, 2.0,
               key_site="https://bailian.console.aliyun.com/?apiKey=1"),
        Preset("moonshot", ("月之暗面 Kimi", "Moonshot / Kimi"), "https://api.moonshot.cn/v1", "moonshot-v1-8k",
               "MOONSHOT_API_KEY", 2.0, 10.0, key_site="https://platform.moonshot.cn/console/api-keys"),
        Preset("zhipu", ("智谱 GLM", "Zhipu GLM"), "https://open.bigmodel.cn/api/paas/v4", "glm-4-flash",
               "ZHIPUAI_API_KEY", 0.0, 0.0, key_site="https://open.bigmodel.cn/usercenter/apikeys"),
        Preset("spark", ("讯飞星火", "iFlytek Spark"), "https://spark-api-open.xf-yun.com/v1", "lite",
               "SPARK_API_PASSWORD", 0.0, 0.0, key_site="https://console.xfyun.cn/services/bm35"),
        Preset("qianfan", ("百度千帆（文心）", "Baidu Qianfan (ERNIE)"), "https://qianfan.baidubce.com/v2",
               "ernie-speed-8k", "QIANFAN_API_KEY", 0.0, 0.0,
               key_site="https://console.bce.baidu.com/iam/#/iam/apikey/list"),
        Preset("openai", ("OpenAI", "OpenAI"), "https://api.openai.com/v1", "gpt-4o-mini", "OPENAI_API_KEY",
               0.15, 0.60, USD, key_site="https://platform.openai.com/api-keys"),
        Preset("ollama", ("Ollama（本机）", "Ollama (local)"), "http://127.0.0.1:11434/v1", "qwen2.5:0.5b",
               None, needs_key=False),
        Preset("vllm", ("vLLM（自建）", "vLLM (self-hosted)"), "http://127.0.0.1:8000/v1", "Qwen/Qwen3-0.6B",
               "VLLM_API_KEY", needs_key=False),
        Preset("custom", ("自定义地址", "Custom base URL"), None, "", "OPENAI_API_KEY", needs_key=False),
    ]
}

PARAMS = ("temperature", "top_p", "max_tokens", "stop", "seed")


@dataclass
class ProviderConfig:
    """Which endpoint and model to call. Empty base_url/model fall back to the preset's."""

    preset: str = "lab"
    base_url: str | None = None
    model: str | None = None
    api_key: str | None = field(default=None, repr=False)  # never printed
    # The lab's own /v1 as this server reaches itself (apps.tasks.endpoint.own_base of the request's
    # socket): the "lab" preset's address, and the one loopback URL a restricted server may call.
    lab_url: str | None = None
    timeout: float = 60.0  # seconds per request
    max_retries: int = 3  # extra attempts after a 429 / 5xx / dropped connection
    backoff: float = 1.0  # seconds before the first retry, doubled each time

    def __post_init__(self):
        if self.preset not in PRESETS:
            raise LabError("tasks.unknown_preset", name=self.preset, choices=", ".join(PRESETS))

    @property
    def spec(self) -> Preset:
        return PRESETS[self.preset]

    @property
    def url(self) -> str:
        if self.base_url:
            return self.base_url.rstrip("/")
        if self.preset == "lab":
            return self.lab_url or _lab_base()
        if self.spec.base_url is None and self.preset != "local":
            raise LabError("tasks.need_base_url")
        return self.spec.base_url or ""

    @property
    def model_name(self) -> str:
        name = (self.model or self.spec.model or "").strip()
        if not name:
            raise LabError("tasks.need_model")
        return name

    def public(self) -> dict:
        """What may be shown or saved with results: everything but the key."""
        return {"preset": self.preset, "base_url": None if self.preset == "local" else self.url,
                "model": self.model_name, "key_set": bool(self.api_key)}


def key_from_env(preset: str) -> str | None:
    """For the CLI only: the key from the preset's environment variable (LLMLAB_API_KEY as fallback)."""
    spec = ProviderConfig(preset).spec  # an unknown preset: tasks.unknown_preset, not a KeyError
    return (os.environ.get(spec.env_var or "") or os.environ.get("LLMLAB_API_KEY") or None)


@dataclass
class Usage:
    """Token counts and timing of one call; cost is estimated from the preset's price table."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0  # wall time of the call, retries and waits included
    retries: int = 0
    finish_reason: str | None = None

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def as_dict(self) -> dict:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "latency_s": round(self.latency_s, 3), "retries": self.retries, "finish_reason": self.finish_reason}


@dataclass
class ChatDelta:
    """One step of a streamed reply: `delta` is the new text, `text` everything so far."""

    delta: str
    text: str
    done: bool = False
    usage: Usage | None = None  # on the last delta


def estimate_cost(cfg: ProviderConfig, usage: Usage) -> tuple[float, str]:
    """(amount, currency) at the preset's approximate list price; 0 for local and self-hosted."""
    spec = cfg.spec
    amount = (usage.prompt_tokens * spec.price_in + usage.completion_tokens * spec.price_out) / 1e6
    return amount, spec.currency


def _params(params: dict) -> dict:
    unknown = set(params) - set(PARAMS)
    if unknown:
        raise LabError("gen.bad_param", name=", ".join(sorted(unknown)), why=f"supported: {', '.join(PARAMS)}")
    return {k: v for k, v in params.items() if v is not None and v != []}


# ---------------------------------------------------------------- errors and retries

def _status_error(exc, cfg: ProviderConfig) -> LabError:
    status = getattr(exc, "status_code", 0)
    detail = _detail(exc)
    if status in (401, 403):
        return LabError("tasks.err_auth", status=status, provider=cfg.spec.label[1], detail=detail)
    if status == 404:
        return LabError("tasks.err_not_found", model=cfg.model_name, url=cfg.url, detail=detail)
    if status == 429:
        return LabError("tasks.err_rate", detail=detail)
    if status >= 500:
        return LabError("tasks.err_server", status=status, detail=detail)
    return LabError("tasks.err_bad_request", status=status, detail=detail)


def _detail(exc) -> str:
    """The server's own message, short; OpenAI-style bodies carry it in error.message."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])[:300]
    return str(getattr(exc, "message", "") or exc)[:300]


def _retry_after(exc) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return min(float(value), 30.0) if value else None
    except ValueError:
        return None


def _call_with_retries(cfg: ProviderConfig, fn):
    """Run fn() (one HTTP call); retry 429/5xx/connection errors with backoff. Returns (result, retries)."""
    import openai

    attempt = 0
    while True:
        try:
            return fn(), attempt
        except openai.APITimeoutError as exc:
            raise LabError("tasks.err_timeout", seconds=cfg.timeout, url=cfg.url) from exc
        except openai.APIConnectionError as exc:
            if attempt >= cfg.max_retries:
                raise LabError("tasks.err_connect", url=cfg.url) from exc
            wait = cfg.backoff * 2 ** attempt
        except openai.APIResponseValidationError as exc:
            raise LabError("tasks.err_malformed", detail=str(exc)[:200]) from exc
        except openai.APIStatusError as exc:
            status = exc.status_code
            if not (status == 429 or status >= 500) or attempt >= cfg.max_retries:
                raise _status_error(exc, cfg) from exc
            wait = _retry_after(exc) or cfg.backoff * 2 ** attempt
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise LabError("tasks.err_malformed", detail=str(exc)[:200]) from exc
        attempt += 1
        time.sleep(wait)


def _client(cfg: ProviderConfig):
    from openai import OpenAI

    from apps.security import policy, urls

    if cfg.spec.needs_key and not cfg.api_key:
        raise LabError("tasks.need_key", provider=cfg.spec.label[1], env=cfg.spec.env_var or "")
    # A shared server must not call whatever URL a user typed (SSRF): checked before any request,
    # and again when the socket opens. Personal mode stays free (a learner's own Ollama on localhost).
    urls.check_base_url(cfg.url, [p.base_url for p in PRESETS.values()], own=cfg.lab_url)
    http = urls.guarded_http_client(cfg.timeout, own=cfg.lab_url) if policy.current().restricted else None
    # max_retries=0: retries are ours, so they are counted and explained.
    return OpenAI(api_key=cfg.api_key or "EMPTY", base_url=cfg.url, timeout=cfg.timeout, max_retries=0,
                  http_client=http)


# ---------------------------------------------------------------- chat

def chat(cfg: ProviderConfig, messages: list[dict], **params) -> tuple[str, Usage]:
    """One reply to `messages` ([{role, content}]). Returns (text, usage)."""
    params = _params(params)
    if cfg.preset == "local":
        return _local_chat(cfg, messages, params)
    started = time.perf_counter()
    with _client(cfg) as client:
        response, retries = _call_with_retries(
            cfg, lambda: client.chat.completions.create(model=cfg.model_name, messages=messages, **params))
    try:
        choice = response.choices[0]
        text = choice.message.content
        if text is None:
            raise TypeError("no message content")
    except (AttributeError, IndexError, TypeError) as exc:
        raise LabError("tasks.err_malformed", detail=f"{type(exc).__name__}: {exc}"[:200]) from exc
    usage = Usage(retries=retries, finish_reason=choice.finish_reason, latency_s=time.perf_counter() - started)
    if response.usage is not None:
        usage.prompt_tokens = response.usage.prompt_tokens or 0
        usage.completion_tokens = response.usage.completion_tokens or 0
    return text, usage


def stream_chat(cfg: ProviderConfig, messages: list[dict], **params) -> Iterator[ChatDelta]:
    """Stream a reply as ChatDelta steps; the last one has done=True and the usage."""
    params = _params(params)
    if cfg.preset == "local":
        yield from _local_stream(cfg, messages, params)
        return
    started = time.perf_counter()
    with _client(cfg) as client:
        stream, retries = _call_with_retries(cfg, lambda: client.chat.completions.create(
            model=cfg.model_name, messages=messages, stream=True, stream_options={"include_usage": True}, **params))
        usage = Usage(retries=retries)
        text = ""
        try:
            for chunk in stream:
                if chunk.usage is not None:
                    usage.prompt_tokens = chunk.usage.prompt_tokens or 0
                    usage.completion_tokens = chunk.usage.completion_tokens or 0
                for choice in chunk.choices or []:
                    piece = (choice.delta.content if choice.delta else None) or ""
                    usage.finish_reason = choice.finish_reason or usage.finish_reason
                    if piece:
                        text += piece
                        yield ChatDelta(piece, text)
        except Exception as exc:  # noqa: BLE001 - a stream that breaks midway is explained, not raw
            import openai

            if isinstance(exc, openai.APIStatusError):
                raise _status_error(exc, cfg) from exc
            if isinstance(exc, openai.APITimeoutError):
                raise LabError("tasks.err_timeout", seconds=cfg.timeout, url=cfg.url) from exc
            raise LabError("tasks.err_malformed", detail=f"{type(exc).__name__}: {exc}"[:200]) from exc
    usage.latency_s = time.perf_counter() - started
    yield ChatDelta("", text, done=True, usage=usage)


def list_models(cfg: ProviderConfig) -> list[str]:
    """Model ids the endpoint offers (GET /models); registry names for the local preset."""
    if cfg.preset == "local":
        from apps.models.registry import names

        return [n for n in names() if n not in names("embedding")]
    with _client(cfg) as client:
        page, _ = _call_with_retries(cfg, lambda: client.models.list())
    return [m.id for m in page.data]


# ---------------------------------------------------------------- registry models without HTTP

def generation_config(params: dict, default_max_tokens: int = 256):
    """OpenAI-style parameters → GenerationConfig. temperature 0 (or absent) means greedy."""
    from apps.models.generation import GenerationConfig

    temperature = params.get("temperature")
    stop = params.get("stop") or []
    stop = [stop] if isinstance(stop, str) else list(stop)
    sample = temperature is not None and temperature > 0
    return GenerationConfig(
        max_new_tokens=int(params.get("max_tokens") or default_max_tokens),
        do_sample=sample,
        temperature=float(temperature) if sample else 1.0,
        top_p=float(params.get("top_p") or 1.0) if sample else 1.0,
        seed=params.get("seed"),
        stop=stop,
        top_logprobs=0,  # alternatives are not needed here; skipping them saves a top-k per token
    )


def _local_model(cfg: ProviderConfig):
    from apps.models import default_cache

    lm = default_cache().get(cfg.model_name)
    if lm.kind == "embedding":
        raise LabError("models.not_generative", name=cfg.model_name)
    return lm


def _local_chat(cfg: ProviderConfig, messages, params) -> tuple[str, Usage]:
    from apps.models.generation import generate

    lm = _local_model(cfg)
    result = generate(lm, messages, generation_config(params))  # batched with everyone's requests
    usage = Usage(result.prompt_tokens, result.completion_tokens, result.total_s, finish_reason=result.finish_reason)
    return result.text, usage


def _local_stream(cfg: ProviderConfig, messages, params) -> Iterator[ChatDelta]:
    from apps.models.generation import stream

    lm = _local_model(cfg)
    previous = ""
    for chunk in stream(lm, messages, generation_config(params)):  # batched with everyone's requests
        text = chunk.text  # the engine never shows half a character
        if text.startswith(previous) and len(text) > len(previous):
            yield ChatDelta(text[len(previous):], text)
            previous = text
        if chunk.done and chunk.result is not None:
            r = chunk.result
            yield ChatDelta("", previous, done=True, usage=Usage(
                r.prompt_tokens, r.completion_tokens, r.total_s, finish_reason=r.finish_reason))
