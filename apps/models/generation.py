"""The generation engine: streaming tokens with per-token log-probabilities, for every decoding style.

    from apps.models import default_cache
    from apps.models.generation import GenerationConfig, generate, stream
    lm = default_cache().get("smollm2-135m-instruct")
    for chunk in stream(lm, [{"role": "user", "content": "Hi"}], GenerationConfig(max_new_tokens=20)):
        print(chunk.token.text if chunk.token else "", end="")

Greedy and sampling run in the model's batching engine (apps/models/batching.py), shared by every
user: each step's distribution is at hand, so the log-probability of the chosen token and its top
alternatives come from the model's raw distribution (before temperature/top-k/top-p reshape it), which
is what "how sure was the model" means. Beam search uses transformers' `generate` and then scores the
chosen sequence in one teacher-forced pass.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Iterator

import torch
from transformers.generation.logits_process import (
    LogitsProcessorList,
    MinPLogitsWarper,
    RepetitionPenaltyLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from apps.errors import LabError
from apps.models.loading import LoadedModel
from apps.models import tokens
from apps.models.registry import EMBEDDING

MAX_NEW_TOKENS = 4096  # a hard bound, whatever a request asks for


@dataclass
class GenerationConfig:
    max_new_tokens: int = 128
    do_sample: bool = False  # False = greedy (or beam search when num_beams > 1)
    temperature: float = 1.0
    top_k: int = 0  # 0 = off
    top_p: float = 1.0  # 1.0 = off
    min_p: float = 0.0  # 0.0 = off
    repetition_penalty: float = 1.0  # 1.0 = off; >1 discourages repeating tokens already present
    num_beams: int = 1
    seed: int | None = None  # sampling with a seed is reproducible; None draws one (reported back)
    stop: list[str] = field(default_factory=list)
    top_logprobs: int = 5  # alternatives recorded at each step (0 = none)

    def validate(self) -> "GenerationConfig":
        checks = [
            ("max_new_tokens", 1 <= self.max_new_tokens <= MAX_NEW_TOKENS, f"1..{MAX_NEW_TOKENS}"),
            ("temperature", 0 < self.temperature <= 10, "0 < t ≤ 10"),
            ("top_k", 0 <= self.top_k <= 100_000, "≥ 0"),
            ("top_p", 0 < self.top_p <= 1, "0 < p ≤ 1"),
            ("min_p", 0 <= self.min_p < 1, "0 ≤ p < 1"),
            ("repetition_penalty", 0 < self.repetition_penalty <= 10, "0 < r ≤ 10"),
            ("num_beams", 1 <= self.num_beams <= 8, "1..8"),
            ("top_logprobs", 0 <= self.top_logprobs <= 20, "0..20"),
            ("seed", self.seed is None or -(2**63) <= self.seed < 2**63, "a 64-bit integer"),
        ]
        for name, ok, why in checks:
            if not ok:
                raise LabError("gen.bad_param", name=name, why=why)
        if self.num_beams > 1 and self.do_sample:
            raise LabError("gen.bad_param", name="num_beams", why="beam search is deterministic: turn sampling off")
        return self

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TokenInfo:
    id: int
    text: str  # this token decoded on its own; part of a character shows as its bytes, <E5><A4>
    logprob: float  # natural log of the model's probability for this token
    top: list[tuple[str, int, float]] = field(default_factory=list)  # (text, id, logprob), best first
    raw: bytes = b""  # the bytes it stands for, so a view can group the tokens of one character


@dataclass
class GenerationResult:
    text: str
    tokens: list[TokenInfo]
    prompt: str  # the rendered prompt, chat template applied
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # stop | length | cancelled
    ttft_s: float
    total_s: float
    seed: int | None = None
    queued_s: float = 0.0  # time spent waiting for a place in the batch (part of ttft_s)

    @property
    def tokens_per_s(self) -> float:
        # Decode speed excludes the prompt's prefill; beam search (no streaming) counts all its time.
        decode_time = self.total_s - self.ttft_s
        if self.completion_tokens > 1 and decode_time > 1e-6:
            return (self.completion_tokens - 1) / decode_time
        return self.completion_tokens / self.total_s if self.total_s > 0 else 0.0


@dataclass
class StreamChunk:
    token: TokenInfo | None
    text: str  # the reply so far (a tail that may become a stop string is held back until decided)
    done: bool = False
    result: GenerationResult | None = None


def _messages(prompt, system: str | None) -> list[dict]:
    messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else [dict(m) for m in prompt]
    for m in messages:  # Gradio 6 hands content over as a list of parts
        if isinstance(m.get("content"), list):
            m["content"] = "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in m["content"])
    if system and not any(m["role"] == "system" for m in messages):
        messages.insert(0, {"role": "system", "content": system})
    return messages


def render_prompt(lm: LoadedModel, prompt: str | list[dict], system: str | None = None) -> str:
    """The exact text the model sees: the chat template for chat models, plain text for base models."""
    if lm.kind == EMBEDDING:
        raise LabError("models.not_generative", name=lm.name)
    if lm.is_chat:
        return lm.tokenizer.apply_chat_template(_messages(prompt, system), tokenize=False, add_generation_prompt=True)
    if isinstance(prompt, str):
        return (system + "\n\n" + prompt) if system else prompt
    # A base model has no roles: show it the conversation as a transcript to continue.
    lines = [f"{m['role'].capitalize()}: {m['content']}" for m in _messages(prompt, system)]
    return "\n".join(lines) + "\nAssistant:"


def encode(lm: LoadedModel, text: str) -> list[int]:
    # A chat template already wrote the special tokens (e.g. <bos>); a base prompt needs the tokenizer's,
    # unless it was rendered from a template and starts with <bos> already (never two).
    bos = getattr(lm.tokenizer, "bos_token", None)  # llama.cpp's tokenizer (apps.models.llamacpp) has ids only
    return lm.tokenizer(text, add_special_tokens=not lm.is_chat and not (bos and text.startswith(bos)))["input_ids"]


def tokenize(lm: LoadedModel, text: str) -> list[dict]:
    """How a text is split: [{id, piece (raw vocabulary entry), text (decoded, or <E5><A4> for part of
    a character: apps.models.tokens), bytes (hex)}]."""
    ids = lm.tokenizer(text, add_special_tokens=False)["input_ids"]
    pieces = lm.tokenizer.convert_ids_to_tokens(ids)
    shown = [tokens.describe(lm.tokenizer, i) for i in ids]
    return [{"id": i, "piece": p, "text": label, "bytes": raw.hex()} for i, p, (label, raw) in zip(ids, pieces, shown)]


def _eos_ids(lm: LoadedModel) -> set[int]:
    ids = set()
    for source in (getattr(lm.model, "generation_config", None), lm.tokenizer):
        value = getattr(source, "eos_token_id", None)
        if value is not None:
            ids.update(value if isinstance(value, (list, tuple)) else [value])
    if lm.is_chat:  # chat templates end a turn with their own marker (<|im_end|>, <end_of_turn>)
        for marker in ("<|im_end|>", "<end_of_turn>", "<|eot_id|>", "<|end|>"):
            tid = lm.tokenizer.convert_tokens_to_ids(marker)
            if isinstance(tid, int) and tid != lm.tokenizer.unk_token_id:
                ids.add(tid)
    return ids


def _processors(cfg: GenerationConfig) -> LogitsProcessorList:
    procs = LogitsProcessorList()
    if cfg.repetition_penalty != 1.0:
        procs.append(RepetitionPenaltyLogitsProcessor(cfg.repetition_penalty))
    if cfg.do_sample:
        if cfg.temperature != 1.0:
            procs.append(TemperatureLogitsWarper(cfg.temperature))
        if cfg.top_k:
            procs.append(TopKLogitsWarper(cfg.top_k))
        if cfg.top_p < 1.0:
            procs.append(TopPLogitsWarper(cfg.top_p))
        if cfg.min_p > 0:
            procs.append(MinPLogitsWarper(cfg.min_p))
    return procs


def _token_info(lm: LoadedModel, token_id: int, logprobs: torch.Tensor, k: int) -> TokenInfo:
    """logprobs: float (V,) log-softmax of the raw logits at this step."""
    top = []
    if k:
        values, ids = torch.topk(logprobs, k)
        top = [(tokens.label(lm.tokenizer, i), int(i), float(v)) for v, i in zip(values.tolist(), ids.tolist())]
    text, raw = tokens.describe(lm.tokenizer, token_id)
    return TokenInfo(id=token_id, text=text, logprob=float(logprobs[token_id]), top=top, raw=raw)


def _check_prompt(lm: LoadedModel, text: str, cfg: GenerationConfig) -> tuple[list[int], int]:
    if not text.strip():
        raise LabError("gen.empty_prompt")
    ids = encode(lm, text)
    ctx = lm.context_length
    if len(ids) >= ctx:
        raise LabError("gen.too_long", n=len(ids), ctx=ctx)
    return ids, min(cfg.max_new_tokens, ctx - len(ids))


def _stop_prefix(text: str, stops: list[str]) -> int:
    """Length of the longest tail of `text` that begins some stop string (it may yet be cut off)."""
    best = 0
    for stop in stops:
        for k in range(min(len(stop) - 1, len(text)), best, -1):
            if text.endswith(stop[:k]):
                best = k
                break
    return best


def _shown(reply: str, stops: list[str]) -> str:
    """What a stream may show so far: the reply less a tail that could still become a stop string.
    Each shown text extends the previous one, so clients can send deltas."""
    return reply[: len(reply) - _stop_prefix(reply, stops)]


def _cut_at_stop(text: str, stops: list[str]) -> tuple[str, bool]:
    hits = [text.index(s) for s in stops if s and s in text]
    return (text[: min(hits)], True) if hits else (text, False)


def start(lm: LoadedModel, prompt: str | list[dict], cfg: GenerationConfig | None = None,
          cancel: threading.Event | None = None, system: str | None = None, user: str | None = None,
          sink=None, local: bool = False):
    """Check the request and hand it to the model's batching engine at once (so a full line refuses it
    before anything streams). Returns an iterable of StreamChunk (a `batching.Request`; its
    `events()` also reports the queue position while waiting). `user` is who asks, for fair shares.
    On a ZeroGPU Space the reply is generated inside a lent GPU call instead (apps.space.zerogpu; its
    `events()` also yields an OnCpu notice when the quota is spent and the reply falls back to CPU);
    `local` keeps it here (that path's own CPU fallback)."""
    cfg = (cfg or GenerationConfig()).validate()
    if lm.kind == EMBEDDING:
        raise LabError("models.not_generative", name=lm.name)
    if isinstance(prompt, str) and not prompt.strip():
        raise LabError("gen.empty_prompt")
    text = render_prompt(lm, prompt, system)
    ids, max_new = _check_prompt(lm, text, cfg)  # cheap refusals before any GPU time is asked for
    if not local and sink is None:  # /v1 streams through a sink: FastAPI routes get no ZeroGPU
        from apps.space import zerogpu

        if zerogpu.active():
            return zerogpu.stream(lm.name, prompt, cfg, system)
    if cfg.num_beams > 1:  # beam search stays outside the batch
        return _beam_stream(lm, text, ids, max_new, cfg)
    from apps.models.batching import engine_for

    seed = cfg.seed if cfg.seed is not None else (int.from_bytes(os.urandom(4), "little") if cfg.do_sample else None)
    generator = torch.Generator(device=lm.device).manual_seed(seed) if seed is not None else None
    return engine_for(lm).submit(ids, cfg, max_new, user=user or "local", cancel=cancel, prompt_text=text,
                                 sink=sink, seed=seed, procs=_processors(cfg), generator=generator)


def stream(lm: LoadedModel, prompt: str | list[dict], cfg: GenerationConfig | None = None,
           cancel: threading.Event | None = None, system: str | None = None,
           user: str | None = None) -> Iterator[StreamChunk]:
    """Yield one StreamChunk per generated token; the last has done=True and the full result.
    A consumer that stops reading early cancels its sequence."""
    req = start(lm, prompt, cfg, cancel=cancel, system=system, user=user)
    try:
        yield from req
    finally:
        if hasattr(req, "close"):
            req.close()  # a no-op once done; else the sequence ends at the next step


def _beam_stream(lm: LoadedModel, text: str, ids: list[int], max_new: int, cfg: GenerationConfig):
    """Beam search has no meaningful partial output: search, then score and emit the winner."""
    started = time.perf_counter()
    eos = sorted(_eos_ids(lm))
    input_ids = torch.tensor([ids], device=lm.device)
    with torch.inference_mode():
        out = lm.model.generate(
            input_ids=input_ids, attention_mask=torch.ones_like(input_ids), max_new_tokens=max_new,
            num_beams=cfg.num_beams, do_sample=False, repetition_penalty=cfg.repetition_penalty,
            eos_token_id=eos or None, pad_token_id=lm.tokenizer.pad_token_id or (eos[0] if eos else 0),
            early_stopping=True,
        )
        new_ids = out[0, len(ids):].tolist()
        finish = "stop" if new_ids and new_ids[-1] in eos else "length"
        new_ids = [i for i in new_ids if i not in eos]
        logprobs = torch.log_softmax(lm.model(out[:, : len(ids) + len(new_ids)]).logits[0].float(), dim=-1)
    tokens, reply = [], ""
    for pos, token_id in enumerate(new_ids):
        info = _token_info(lm, token_id, logprobs[len(ids) + pos - 1], cfg.top_logprobs)
        tokens.append(info)
        decoded = lm.tokenizer.decode(new_ids[: pos + 1], skip_special_tokens=True).rstrip("\ufffd")
        reply, stopped = _cut_at_stop(decoded, cfg.stop)
        if stopped:
            finish = "stop"
            break
        yield StreamChunk(token=info, text=_shown(reply, cfg.stop))
    elapsed = time.perf_counter() - started  # the first token shows only when the search is over
    result = GenerationResult(
        text=reply, tokens=tokens, prompt=text, prompt_tokens=len(ids), completion_tokens=len(tokens),
        finish_reason=finish, ttft_s=elapsed, total_s=elapsed,
    )
    yield StreamChunk(token=None, text=reply, done=True, result=result)


def generate(lm: LoadedModel, prompt: str | list[dict], cfg: GenerationConfig | None = None,
             cancel: threading.Event | None = None, system: str | None = None,
             user: str | None = None) -> GenerationResult:
    """Run `stream` to the end and return the result."""
    return collect(stream(lm, prompt, cfg, cancel=cancel, system=system, user=user))


def collect(chunks) -> GenerationResult:
    """The result at the end of a stream (e.g. of several `start`ed requests collected in turn)."""
    last = None
    for last in chunks:
        pass
    return last.result
