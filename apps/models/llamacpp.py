"""A second engine: GGUF files run by llama.cpp, quantised as they are.

    make install                                 # brings xllamacpp (prebuilt); `make llama` adds llama-cpp-python
    llmlab chat --model smollm2-135m-instruct@llama.cpp
    llmlab chat --model ~/models/qwen2.5-7b-instruct-q4_k_m.gguf
    LLMLAB_GGUF=~/models/qwen2.5-7b-instruct-q4_k_m.gguf llmlab api   # served as "<stem>@llama.cpp"

A model reference ending in "@llama.cpp" (a registry GGUF model, or a GGUF served through
$LLMLAB_GGUF) or naming a ".gguf" file resolves to a spec with source "llama.cpp"; `load` returns a
`LoadedModel` whose `engine` is a `LlamaEngine`, so `apps.models.generation.start/stream/generate`
(and through them the terminal chat, the Playground and /v1) use it unchanged. The lab's PyTorch path
dequantises a GGUF to fp32 (a 7B model: 28 GB); llama.cpp keeps the 4-bit blocks (about 4 GB).

Why our own decode loop over `Llama.eval` rather than `create_chat_completion(logprobs=True)`: that
needs `logits_all=True`, which keeps n_ctx × vocabulary floats (Qwen's 152k vocabulary at 4096
context: 2.4 GB), and samples with llama.cpp's own chain. Here each step reads the last position's
logits only, and picks the token with the lab's own code (`BatchEngine._choose`): the same seeds,
stop strings, cancel and per-token log-probabilities with top-k alternatives from the raw
distribution that the token view shows for PyTorch models. One llama.cpp context holds one
sequence, so requests run one at a time (fair order, the same queue limits and 429); the prompt
prefix shared with the previous request (a multi-turn chat) is kept in the KV cache.

The binding (prebuilt xllamacpp, or a compiled llama-cpp-python) sits behind the small runner
interface of apps/models/llamacpp_backends.py; this module does not know which one it drives.
"""
from __future__ import annotations

import atexit
import dataclasses
import os
import threading
import time
import weakref
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

from apps.errors import LabError
from apps.models import llamacpp_backends
from apps.models.batching import IDLE_EXIT_S, BatchEngine
from apps.models.registry import BASE, CHAT, ModelSpec

SUFFIX = "@llama.cpp"
SOURCE = "llama.cpp"
DEFAULT_CTX = 4096
OVERHEAD = 1.10  # compute buffers and the runtime on top of weights + KV cache (measured ~5–8%)


def available() -> bool:
    """Is a llama.cpp binding installed (and not turned off with LLMLAB_LLAMA=off)? Checked without
    importing it: the import loads a C library."""
    return llamacpp_backends.backend() is not None


def is_ref(name: str) -> bool:
    name = (name or "").strip()
    return name.endswith(SUFFIX) or name.lower().endswith(".gguf")


def served_files() -> dict[str, str]:
    """GGUF files the operator serves ($LLMLAB_GGUF, comma-separated paths): "<stem>@llama.cpp" → path."""
    out = {}
    for item in (os.environ.get("LLMLAB_GGUF") or "").split(","):
        if item.strip():
            path = Path(item.strip()).expanduser()
            out[path.stem + SUFFIX] = str(path)
    return out


def served_ids() -> list[str]:
    """Model ids /v1 and the model pickers offer for this engine (none when it is not installed)."""
    if not available():
        return []
    from apps.models.registry import REGISTRY

    return [s.name + SUFFIX for s in REGISTRY.values() if s.source == "gguf"] + list(served_files())


def resolve(name: str) -> ModelSpec:
    """"m@llama.cpp" (a registry GGUF model or a served file) or a path to a .gguf file → a spec."""
    from apps.models import registry
    from apps.security import model_policy

    name = name.strip()
    if name in served_files():
        return ModelSpec(name=name, kind=CHAT, source=SOURCE, folder=served_files()[name], offline=True)
    base = name[: -len(SUFFIX)] if name.endswith(SUFFIX) else name
    if base in registry.REGISTRY:
        spec = registry.REGISTRY[base]
        if spec.source != "gguf":
            raise LabError("llama.not_gguf", name=base)
        return dataclasses.replace(spec, name=base + SUFFIX, source=SOURCE, hub_id=None)
    model_policy.check_name(base)  # a typed file path: only where the policy allows it
    path = Path(base).expanduser()
    if not path.is_file():
        raise LabError("llama.no_file", path=base[:300])
    return ModelSpec(name=str(path), kind=CHAT, source=SOURCE, folder=str(path), offline=True)


def file_of(spec: ModelSpec) -> Path:
    if spec.folder:
        return Path(spec.folder)
    from apps.models.loading import gguf_path

    return gguf_path(spec)  # a registry model's GGUF (assembled from its packages once)


# ---------------------------------------------------------------- memory, before loading

def _field(reader, key: str):
    f = reader.fields.get(key)
    if f is None or not f.data:
        return None
    value = f.parts[f.data[0]]
    return value.tobytes().decode("utf-8", "replace") if value.dtype == np.uint8 else value[0].item()


def read_header(path: Path) -> dict:
    """What the GGUF says about its shape: architecture, layers, heads, context. Corrupt → LabError."""
    from gguf import GGUFReader

    try:
        reader = GGUFReader(str(path))
        arch = _field(reader, "general.architecture")
        if not arch:
            raise ValueError("no general.architecture")
        get = lambda k: _field(reader, f"{arch}.{k}")  # noqa: E731
        heads = get("attention.head_count") or 1
        embd = get("embedding_length") or 0
        return {"arch": arch, "layers": int(get("block_count") or 0), "heads": int(heads),
                "kv_heads": int(get("attention.head_count_kv") or heads),
                "head_dim": int(get("attention.key_length") or (embd // heads if heads else 0)),
                "ctx_train": int(get("context_length") or DEFAULT_CTX),
                "chat_template": bool(reader.fields.get("tokenizer.chat_template"))}
    except (ValueError, KeyError, IndexError, OSError, TypeError) as exc:
        raise LabError("llama.corrupt", path=path.name, reason=str(exc)[:200] or type(exc).__name__) from exc


def plan(path: Path, n_ctx: int | None = None) -> dict:
    """Memory needed vs available, before anything loads. Bytes: file (the quantised weights, mapped
    into memory) + KV cache (2 × layers × n_ctx × kv_heads × head_dim × 2 bytes, f16) + ~10%."""
    import psutil

    header = read_header(path)
    n_ctx = min(n_ctx or int(os.environ.get("LLMLAB_LLAMA_CTX", DEFAULT_CTX)), header["ctx_train"])
    kv = 2 * header["layers"] * n_ctx * header["kv_heads"] * header["head_dim"] * 2
    file_bytes = path.stat().st_size
    need = int((file_bytes + kv) * OVERHEAD)
    avail = int(psutil.virtual_memory().available)
    return {"file": str(path), "file_mb": file_bytes >> 20, "kv_mb": kv >> 20, "need_mb": need >> 20,
            "available_mb": avail >> 20, "fits": need <= avail, "n_ctx": n_ctx, **header}


def describe(p: dict, lang: str = "en") -> str:
    from apps.i18n import t

    return t("llama.plan", lang, file=p["file_mb"], kv=p["kv_mb"], ctx=p["n_ctx"], need=p["need_mb"],
             avail=p["available_mb"])


# ---------------------------------------------------------------- the tokenizer the lab expects

class GGUFTokenizer:
    """The parts of a transformers tokenizer that apps.models.generation uses, over llama.cpp's own
    vocabulary and the GGUF's chat template (rendered by transformers' own Jinja code), so prompts
    tokenise exactly as llama.cpp reads them. `llm`: a llamacpp_backends runner."""

    unk_token_id = None
    pad_token_id = None

    def __init__(self, llm, template: str | None, n_ctx: int):
        self.llm, self.chat_template, self.model_max_length = llm, template, n_ctx
        self.bos_token_id, self._add_bos, self.eos_token_id = llm.bos, llm.add_bos, list(llm.eos_ids)
        first_eos = llm.eos_ids[0] if llm.eos_ids else -1
        self._specials = {"bos_token": llm.token_text(llm.bos) if llm.bos >= 0 else "",
                          "eos_token": llm.token_text(first_eos) if first_eos >= 0 else ""}

    def __call__(self, text: str, add_special_tokens: bool = True) -> dict:
        return {"input_ids": self.llm.tokenize(text, add_bos=add_special_tokens and self._add_bos, special=True)}

    def apply_chat_template(self, messages, tokenize: bool = False, add_generation_prompt: bool = True) -> str:
        from transformers.utils.chat_template_utils import render_jinja_template

        rendered, _ = render_jinja_template([messages], chat_template=self.chat_template,
                                            add_generation_prompt=add_generation_prompt, **self._specials)
        prompt = rendered[0]
        return prompt if tokenize is False else self(prompt, add_special_tokens=False)["input_ids"]

    def decode(self, ids, skip_special_tokens: bool = False) -> str:
        return self.llm.detokenize(list(ids), special=not skip_special_tokens).decode("utf-8", errors="replace")

    def convert_ids_to_tokens(self, ids):
        return [self.llm.token_text(int(i)) for i in ids]

    def convert_tokens_to_ids(self, token: str):
        ids = self.llm.tokenize(token, add_bos=False, special=True)
        return ids[0] if len(ids) == 1 and self.llm.token_text(ids[0]) == token else None


class LlamaModule:
    """What `lm.model` is for this engine: the runner (`llm`) and a config with its context size."""

    generation_config = None

    def __init__(self, llm, n_ctx: int):
        self.llm = llm
        self.config = SimpleNamespace(max_position_embeddings=n_ctx, sliding_window=None)

    def generate(self, *args, **kwargs):
        raise LabError("llama.no_beams")  # beam search is the PyTorch engine's (generation._beam_stream)


# ---------------------------------------------------------------- the engine

class LlamaEngine(BatchEngine):
    """One sequence at a time through one llama.cpp context, with the batching engine's queue, fair
    order, limits, cancel and token choice (`_choose`)."""

    def __init__(self, lm):
        super().__init__(lm, max_batch=1, dtype="fp32")
        self.llm = lm.model.llm  # a llamacpp_backends runner

    def _logits(self) -> torch.Tensor:
        """The last evaluated position's logits: float32 (1, V), copied out of llama.cpp's buffer."""
        return torch.from_numpy(self.llm.logits())[None]

    def _prefill(self, ids: list[int]) -> torch.Tensor:
        llm = self.llm
        keep = 0
        if not llm.recurrent:
            cached = llm.tokens
            while keep < min(len(cached), len(ids)) and cached[keep] == ids[keep]:
                keep += 1
            keep = min(keep, len(ids) - 1)  # at least one token to evaluate: its logits pick the reply
        keep = llm.truncate(keep)
        llm.eval(ids[keep:])
        return self._logits()

    def _loop(self) -> None:
        idle_since = time.monotonic()
        while not self._stopping:
            with self._cond:
                for req in [r for r in self._waiting if r.stopped()]:
                    self._waiting.remove(req)
                    self._finish(req, "cancelled")
                if not self._waiting:
                    if time.monotonic() - idle_since > IDLE_EXIT_S:
                        self._thread = None
                        return
                    self._cond.wait(timeout=1.0)
                    continue
                req = self._order()[0]
                self._waiting.remove(req)
                self._rows = [req]
            try:
                self._run(req)
            finally:
                with self._cond:
                    self._rows = []
            idle_since = time.monotonic()

    def _run(self, req) -> None:
        try:
            with torch.inference_mode():
                logits = self._prefill(req.ids)
                req.admitted = time.perf_counter()
                while self._choose([req], logits) and not self._stopping:
                    self.llm.eval([req.new_ids[-1]])
                    self.steps += 1
                    logits = self._logits()
        except Exception as exc:  # noqa: BLE001 - this request fails alone; the engine goes on
            self.llm.reset()
            self._fail(req, exc)


# ---------------------------------------------------------------- loading

def _threads() -> int:
    """llama.cpp's own default: half the logical CPUs (physical cores, roughly). Its threads wait on
    each other every layer, so one more thread than the free cores slows every step many times over
    (measured here: 2 threads on a busy 2-core machine, ~1 s a token; 1 thread, ~80 ms)."""
    try:
        return max(1, int(os.environ["LLMLAB_LLAMA_THREADS"]))
    except (KeyError, ValueError):
        return max(1, (os.cpu_count() or 2) // 2)

_LOADED: "weakref.WeakSet" = weakref.WeakSet()
_LOAD_LOCK = threading.Lock()


def load(spec: ModelSpec, n_ctx: int | None = None):
    """A LoadedModel run by llama.cpp. Checks, before loading: the engine is installed, the file is a
    GGUF, and weights + KV cache fit in the memory available now."""
    from apps.models.loading import LoadedModel

    if not available():
        raise LabError("llama.not_installed")
    path = file_of(spec)
    p = plan(path, n_ctx)
    if not p["fits"]:
        raise LabError("llama.too_big", name=spec.name, need=p["need_mb"], avail=p["available_mb"],
                       file=p["file_mb"], kv=p["kv_mb"], ctx=p["n_ctx"])
    started = time.perf_counter()
    with _LOAD_LOCK:
        try:
            llm = llamacpp_backends.open_gguf(str(path), n_ctx=p["n_ctx"], n_threads=_threads())
        except (ValueError, RuntimeError, OSError) as exc:
            raise LabError("llama.corrupt", path=path.name, reason=str(exc)[:200]) from exc
    _LOADED.add(llm)
    template = llm.chat_template
    kind = CHAT if template and spec.kind != BASE else BASE
    tokenizer = GGUFTokenizer(llm, template if kind == CHAT else None, p["n_ctx"])
    lm = LoadedModel(spec=spec, model=LlamaModule(llm, p["n_ctx"]), tokenizer=tokenizer, device="cpu",
                     dtype=torch.float32, path=str(path), kind=kind, variant=SOURCE,
                     load_seconds=time.perf_counter() - started, nbytes=p["need_mb"] << 20)
    lm.engine = LlamaEngine(lm)
    return lm


@atexit.register
def _close_all() -> None:
    """Stop the engines' threads, then free the contexts while the C library is still there (else
    llama-cpp-python's __del__ fails noisily at interpreter exit; xllamacpp's contexts are ours to free)."""
    from apps.models.batching import _stop_all

    _stop_all()
    for llm in list(_LOADED):
        try:
            llm.close()
        except Exception:  # noqa: BLE001 - exiting anyway
            pass
