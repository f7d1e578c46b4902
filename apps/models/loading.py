"""Loading models: GGUF → cached safetensors, device and dtype choice, a shared cache with a budget.

A GGUF file is dequantised by transformers on every load (30–85 s here). The first load therefore
saves the result as a plain safetensors folder under `$LLMLAB_HOME/models/<name>/` (default
`~/.cache/llmlab`), which any later cold load (and plain `from_pretrained`, e.g. a peft adapter's
base) reads in seconds. `ModelCache` keeps loaded models shared between users and evicts the least
recently used one when the memory budget would be exceeded.
"""
from __future__ import annotations

import contextlib
import fcntl
import gc
import hashlib
import os
import re
import shutil
import socket
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import torch

from apps.errors import LabError
from apps.models import footprint, registry
from apps.models.registry import CHAT, EMBEDDING, ModelSpec
from apps.security import model_policy
from apps.storage import lab_home

QUANT_CONFIG = "llmlab_quantization.json"  # marks a folder saved by apps.quantize.store

# A hub lookup on a machine without internet must fail fast, not hang for minutes.
os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", "5")
os.environ.setdefault("HF_HUB_DOWNLOAD_TIMEOUT", "10")


_REACHABLE: dict[str, tuple[float, bool]] = {}


def hub_reachable(timeout: float = 3.0) -> bool:
    """Can this machine open a connection to the hub? Cached for a minute.

    huggingface_hub retries an unreachable host 5 times with back-off (~25 s per file, ~50 s per
    model here); asking once up front lets an offline miss fail in seconds, from the local cache only."""
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes"):
        return False
    endpoint = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    host, port = endpoint.hostname or "huggingface.co", endpoint.port or (443 if endpoint.scheme == "https" else 80)
    cached = _REACHABLE.get(host)
    if cached and time.monotonic() - cached[0] < 60:
        return cached[1]
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        ok = True
    except OSError:
        ok = False
    _REACHABLE[host] = (time.monotonic(), ok)
    return ok


def _quiet_transformers() -> None:
    """Per-tensor progress bars flood the CLI's output and the server log; our own UI shows progress."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


def pick_device(requested: str | None = None) -> str:
    if requested and requested != "auto":
        if not re.fullmatch(r"cpu|mps|cuda(:\d+)?", requested):  # "tpu" would fail deep inside torch
            raise LabError("gen.bad_param", name="device", why="auto, cpu, cuda or cuda:N")
        if requested.startswith("cuda") and not torch.cuda.is_available():
            raise LabError("gen.bad_param", name="device", why="CUDA is not available on this machine")
        return requested
    return "cuda" if torch.cuda.is_available() else "cpu"


def pick_dtype(device: str) -> torch.dtype:
    """fp32 on CPU (bf16 matmuls are slow there); bf16 on GPUs that support it, else fp16."""
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


@contextlib.contextmanager
def _file_lock(path: Path):
    """Inter-process lock, so two processes never convert the same GGUF at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def gguf_path(spec: ModelSpec) -> Path:
    """The GGUF file of a spec: inside its package, or assembled from part packages into the cache."""
    if spec.gguf_package:
        return registry.package_dir(spec.gguf_package) / spec.gguf_file
    target = lab_home() / "gguf" / spec.gguf_file
    if target.exists():
        return target
    parts = [registry.package_dir(p) / "data" for p in spec.gguf_parts]
    tmp = target.with_suffix(".partial")
    tmp.parent.mkdir(parents=True, exist_ok=True)
    with open(tmp, "wb") as out:
        for folder in parts:
            for part in sorted(folder.glob(spec.gguf_file + ".part*")):
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
    if spec.gguf_sha256 and _sha256(tmp) != spec.gguf_sha256:
        tmp.unlink()
        raise LabError("models.load_failed", name=spec.name, reason="assembled GGUF has the wrong sha256")
    tmp.rename(target)
    return target


def _convert_gguf(spec: ModelSpec, target: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    _quiet_transformers()
    source = gguf_path(spec)
    tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
    model = AutoModelForCausalLM.from_pretrained(source.parent, gguf_file=source.name, dtype=torch.float32)
    # A GGUF-born model carries a quantizer that blocks save_pretrained and training; the weights
    # are already dequantised, so dropping it is safe.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.config.name_or_path = str(target)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-"))
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        (tmp / "LLMLAB_SOURCE.txt").write_text(f"converted from {source.name} (upstream {spec.hub_id})\n")
        tmp.rename(target)  # atomic: a half-written cache folder is never seen as complete
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    if not spec.gguf_package:  # an assembled GGUF was only a stepping stone
        source.unlink(missing_ok=True)


def model_dir(spec: ModelSpec) -> str:
    """Where `from_pretrained` should read this spec: a folder, or a hub id."""
    if spec.source == "gguf":
        target = lab_home() / "models" / spec.name
        if not (target / "config.json").exists():
            with _file_lock(lab_home() / "models" / f".{spec.name}.lock"):
                if not (target / "config.json").exists():
                    _convert_gguf(spec, target)
        return str(target)
    if spec.source == "package-folder":
        return str(registry.package_dir(spec.folder_package) / "model")
    if spec.source == "local":
        return spec.folder
    return spec.hub_id


@dataclass
class LoadedModel:
    """A model ready to use. `model` is a transformers module (a sentence-transformers one for
    kind == embedding and variant == 'st'); `path` is a folder plain `from_pretrained` can load."""

    spec: ModelSpec
    model: object
    tokenizer: object
    device: str
    dtype: torch.dtype
    path: str
    kind: str
    variant: str = "lm"
    load_seconds: float = 0.0
    nbytes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    engine: object = field(default=None, repr=False, compare=False)  # its batching engine, made on first use

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def context_length(self) -> int:
        config = getattr(self.model, "config", None)
        n = getattr(config, "max_position_embeddings", None) or getattr(self.tokenizer, "model_max_length", 2048)
        return int(min(n, 1 << 20))

    @property
    def is_chat(self) -> bool:
        return self.kind == CHAT


def _hub_error(spec: ModelSpec, exc: Exception) -> LabError:
    text = str(exc)
    offline_words = ("offline", "resolve", "connect", "timed out", "Max retries", "couldn't find", "not find")
    if spec.source == "hub" and any(w.lower() in text.lower() for w in offline_words):
        return LabError("models.offline_miss", name=spec.name)
    return LabError("models.load_failed", name=spec.name, reason=text.splitlines()[0][:300] if text else type(exc).__name__)


def load_model(
    name: str | ModelSpec,
    device: str | None = None,
    dtype: torch.dtype | None = None,
    attn: str = "sdpa",
    variant: str = "lm",
    adapter: str | None = None,
) -> LoadedModel:
    """Load a model without caching it. variant: 'lm' (causal LM or encoder), 'st' (sentence-
    transformers embedder). attn='eager' is needed for output_attentions. adapter: a peft folder."""
    spec = name if isinstance(name, ModelSpec) else registry.resolve(name)
    if spec.source == "llama.cpp":  # a GGUF kept quantised, run by llama.cpp (apps/models/llamacpp.py)
        from apps.models import llamacpp

        return llamacpp.load(spec)
    device = pick_device(device)
    dtype = dtype or pick_dtype(device)
    started = time.perf_counter()
    _quiet_transformers()
    if spec.source == "local" and (Path(spec.folder) / QUANT_CONFIG).exists():
        from apps.quantize.store import load_folder  # a folder saved by `llmlab quantize --output`

        return load_folder(spec, device=device)
    try:
        path = model_dir(spec)
        # Offline, a hub id may still be in the local Hugging Face cache: look only there.
        hub = {"local_files_only": True} if spec.source == "hub" and not hub_reachable() else {}
        if variant == "st":
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(path, device=device, **hub)
            tokenizer = model.tokenizer
            kind = EMBEDDING
        else:
            from transformers import AutoModel, AutoModelForCausalLM, AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(path, **hub)
            kind = spec.kind
            if spec.kind == EMBEDDING:
                model = AutoModel.from_pretrained(path, dtype=dtype, attn_implementation=attn, **hub)
            else:
                model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, attn_implementation=attn, **hub)
                if spec.source in ("hub", "local"):  # kind of an unlisted model: does it have a chat template?
                    kind = CHAT if getattr(tokenizer, "chat_template", None) else spec.kind if spec.source == "local" else "base"
            if adapter:
                from peft import PeftModel

                from apps.finetune.template import apply_to

                model = PeftModel.from_pretrained(model, adapter)
                # prompt exactly as the adapter was trained: its saved template, one <bos>
                tokenizer, kind = apply_to(tokenizer, adapter), CHAT
            model.to(device).eval()
    except LabError:
        raise
    except Exception as exc:  # noqa: BLE001 - any loader failure becomes a message the user can read
        raise _hub_error(spec, exc) from exc
    params = model.parameters() if hasattr(model, "parameters") else []
    nbytes = sum(p.numel() * p.element_size() for p in params)
    return LoadedModel(
        spec=spec, model=model, tokenizer=tokenizer, device=device, dtype=dtype, path=path, kind=kind,
        variant=variant, load_seconds=time.perf_counter() - started, nbytes=nbytes,
    )


def _default_budget() -> int:
    if "LLMLAB_MEMORY_BUDGET_MB" in os.environ:
        return int(os.environ["LLMLAB_MEMORY_BUDGET_MB"]) << 20
    try:
        import psutil

        return int(psutil.virtual_memory().total * 0.5)
    except ImportError:  # pragma: no cover
        return 8 << 30


class ModelCache:
    """Loaded models shared by every user of a process, loaded lazily, evicted LRU past a byte budget.

    `get` is thread-safe: concurrent requests for the same model wait for one load. A model in use
    is never freed under its user: eviction only drops the cache's reference.
    """

    def __init__(self, budget_bytes: int | None = None):
        self.budget = budget_bytes if budget_bytes is not None else _default_budget()
        self._models: OrderedDict[tuple, LoadedModel] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[tuple, threading.Lock] = {}

    def get(self, name: str, device: str | None = None, attn: str = "sdpa", variant: str = "lm",
            adapter: str | None = None) -> LoadedModel:
        """`name` may be a model reference with an adapter (registry.model_ref), or "m+int8" / "m+int4"
        (apps.quantize makes the quantised copy from the cached "m"; "m" itself is never modified)."""
        if adapter is None:
            name, adapter = registry.split_ref(name)
        name, quant = registry.split_quant(name)  # "m+int8": quantised from the cached "m" on first use
        spec = registry.resolve(name)
        key = (spec.name + (f"+{quant}" if quant else ""), pick_device(device), attn, variant, adapter)
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
            key_lock = self._loading.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._models:
                    return self._models[key]
            if adapter:
                model_policy.check_adapter(adapter)
            if quant:  # a quantised copy of the (cached) full-precision model
                from apps.quantize.methods import quantize_loaded

                loaded = quantize_loaded(self.get(spec.name, key[1], attn, variant, adapter), quant)
            else:
                self._make_room(spec, footprint.estimate_bytes(spec, pick_dtype(key[1])))
                loaded = load_model(spec, device=key[1], attn=attn, variant=variant, adapter=adapter)
            with self._lock:
                if loaded.nbytes > self.budget:
                    raise LabError("models.too_big", name=spec.name, need_mb=loaded.nbytes >> 20,
                                   budget_mb=self.budget >> 20)
                while self._models and self.used() + loaded.nbytes > self.budget:
                    self._models.popitem(last=False)
                    gc.collect()
                self._models[key] = loaded
                self._loading.pop(key, None)
            return loaded

    def _make_room(self, spec: ModelSpec, need: int | None) -> None:
        """Before loading: refuse a model bigger than the whole budget, and evict LRU models until
        the estimate fits, so the peak never holds both. `need` None: checked after loading only."""
        if need is None:
            return
        with self._lock:
            if need > self.budget:
                raise LabError("models.too_big", name=spec.name, need_mb=need >> 20, budget_mb=self.budget >> 20)
            evicted = False
            while self._models and self.used() + need > self.budget:
                self._models.popitem(last=False)
                evicted = True
        if evicted:
            gc.collect()

    def used(self) -> int:
        return sum(m.nbytes for m in self._models.values())

    def loaded(self) -> list[str]:
        with self._lock:
            return [f"{k[0]} ({k[1]}, {k[2]}{', ' + k[4] if k[4] else ''})" for k in self._models]

    def clear(self) -> None:
        with self._lock:
            self._models.clear()
        gc.collect()


_DEFAULT: ModelCache | None = None
_DEFAULT_LOCK = threading.Lock()


def default_cache() -> ModelCache:
    """The process-wide cache the UI, the API server and the CLI share."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = ModelCache()
        return _DEFAULT
