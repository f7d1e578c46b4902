"""The two bindings LlamaEngine (apps/models/llamacpp.py) can run llama.cpp through, behind one small
interface: load a GGUF, tokenise, detokenise, evaluate tokens while keeping the KV cache of a shared
prefix, and read the last position's logits.

- `xllamacpp` (pinned in requirements.txt, so `make install` brings it): a prebuilt manylinux2014
  wheel, CPU with AVX2/FMA/F16C (no AVX-512), no dependencies. Its Python API is llama-server's
  (OpenAI-shaped requests, sampling in C++: no full logits), but its extension module exports
  llama.h's C API, and we call the ~20 functions we need with ctypes. Structs passed by value are
  opaque blobs from `llama_*_default_params()`; we write only fields whose offsets the pinned
  version has and check them against the known defaults first (`_check_layout`), so another
  version refuses to load instead of reading the wrong memory.
- `llama-cpp-python` (the optional `make llama`: compiled here for ~6 minutes).

Which one: $LLMLAB_LLAMA = "xllamacpp" | "llama-cpp-python" | "off"; by default xllamacpp where it
is installed (what CI and every `make install` run), else llama-cpp-python.

    PYTHONPATH=. .venv/bin/python -m apps.models.llamacpp_backends model.gguf   # which backend, greedy 8 tokens
"""
from __future__ import annotations

import ctypes as C
import importlib.util
import os
import sys
import threading

import numpy as np

XLLAMA, PYLLAMA = "xllamacpp", "llama-cpp-python"
_MODULES = {XLLAMA: "xllamacpp", PYLLAMA: "llama_cpp"}
OFF = ("0", "off", "no", "false")


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None  # without importing: that loads a C library
    except (ImportError, ValueError):
        return False


def backend() -> str | None:
    """The binding this process uses, or None (none installed, or LLMLAB_LLAMA=off)."""
    want = (os.environ.get("LLMLAB_LLAMA") or "").strip().lower()
    if want in OFF:
        return None
    order = [want] if want in _MODULES else [XLLAMA, PYLLAMA]
    return next((name for name in order if _installed(_MODULES[name])), None)


def open_gguf(path: str, n_ctx: int, n_threads: int, n_batch: int = 512):
    """A runner (XLlama or PyLlama) holding one llama.cpp context over the GGUF at `path`."""
    name = backend()
    if name is None:
        raise ImportError("no llama.cpp binding installed")
    return (XLlama if name == XLLAMA else PyLlama)(path, n_ctx, n_threads, n_batch)


class Runner:
    """One model + one context + one sequence. `tokens` mirrors what the KV cache holds."""

    backend = ""
    n_vocab = 0
    bos: int = -1
    add_bos = False
    eos_ids: list[int] = []
    chat_template: str | None = None
    recurrent = False  # a recurrent/hybrid model's state cannot be cut back to a prefix

    def truncate(self, n: int) -> int:
        """Keep the first n evaluated tokens (0: empty). Returns how many were kept."""
        raise NotImplementedError

    def eval(self, ids: list[int]) -> None:
        """Evaluate ids after what the cache holds; the last one's logits become readable."""
        raise NotImplementedError

    def logits(self) -> np.ndarray:
        """The last evaluated position's logits: float32 (n_vocab,), a copy."""
        raise NotImplementedError

    def reset(self) -> None:
        self.truncate(0)

    def tokens_text(self, ids) -> str:
        return self.detokenize(list(ids), special=True).decode("utf-8", "replace")


# ---------------------------------------------------------------- xllamacpp: llama.h through ctypes

class _Blob(C.Structure):
    """A llama_*_params struct by value; big enough for any version (the callee reads its own size)."""
    _fields_ = [("raw", C.c_ubyte * 1024)]


class _Batch(C.Structure):  # struct llama_batch (llama.h), stable for years
    _fields_ = [("n_tokens", C.c_int32), ("token", C.POINTER(C.c_int32)), ("embd", C.c_void_p),
                ("pos", C.c_void_p), ("n_seq_id", C.c_void_p), ("seq_id", C.c_void_p), ("logits", C.c_void_p)]


_P, _I32, _B = C.c_void_p, C.c_int32, C.c_bool
_SIGNATURES = {  # name: (restype, argtypes), as in the pinned version's llama.h
    "llama_backend_init": (None, []),
    "llama_model_default_params": (_Blob, []),
    "llama_context_default_params": (_Blob, []),
    "llama_model_load_from_file": (_P, [C.c_char_p, _Blob]),
    "llama_init_from_model": (_P, [_P, _Blob]),
    "llama_model_free": (None, [_P]),
    "llama_free": (None, [_P]),
    "llama_model_get_vocab": (_P, [_P]),
    "llama_model_chat_template": (C.c_char_p, [_P, C.c_char_p]),
    "llama_model_is_recurrent": (_B, [_P]),
    "llama_model_is_hybrid": (_B, [_P]),
    "llama_vocab_n_tokens": (_I32, [_P]),
    "llama_vocab_bos": (_I32, [_P]),
    "llama_vocab_eos": (_I32, [_P]),
    "llama_vocab_eot": (_I32, [_P]),
    "llama_vocab_get_add_bos": (_B, [_P]),
    "llama_vocab_get_text": (C.c_char_p, [_P, _I32]),
    "llama_tokenize": (_I32, [_P, C.c_char_p, _I32, C.POINTER(_I32), _I32, _B, _B]),
    "llama_detokenize": (_I32, [_P, C.POINTER(_I32), _I32, C.c_char_p, _I32, _B, _B]),
    "llama_batch_get_one": (_Batch, [C.POINTER(_I32), _I32]),
    "llama_decode": (_I32, [_P, _Batch]),
    "llama_get_logits_ith": (C.POINTER(C.c_float), [_P, _I32]),
    "llama_get_memory": (_P, [_P]),
    "llama_memory_clear": (None, [_P, _B]),
    "llama_memory_seq_rm": (_B, [_P, _I32, _I32, _I32]),
}
# llama_context_params of the pinned xllamacpp (llama.cpp b11549), as uint32 words: n_ctx, n_batch,
# n_ubatch, n_seq_max, n_rs_seq, n_outputs_max, n_outputs_max_per_seq, n_threads, n_threads_batch.
_CTX, _BATCH, _UBATCH, _SEQ_MAX, _THREADS, _THREADS_BATCH = 0, 1, 2, 3, 7, 8
_CTX_DEFAULTS = {_BATCH: 2048, _UBATCH: 512, _SEQ_MAX: 1}
_LOG = C.CFUNCTYPE(None, C.c_int, C.c_char_p, C.c_void_p)
_lib, _quiet, _lib_lock = None, None, threading.Lock()


def _library():
    """xllamacpp's extension as a C library, its functions typed; llama.cpp's log silenced."""
    global _lib, _quiet
    with _lib_lock:
        if _lib is None:
            import xllamacpp  # noqa: F401 - loads the extension once, the way Python expects

            lib = C.CDLL(sys.modules["xllamacpp.xllamacpp"].__file__)
            for name, (res, args) in _SIGNATURES.items():
                fn = getattr(lib, name)
                fn.restype, fn.argtypes = res, args
            _quiet = _LOG(lambda level, text, data: None)  # kept referenced: C holds the pointer
            log_set = lib.llama_log_set
            log_set.restype, log_set.argtypes = None, [_LOG, C.c_void_p]
            log_set(_quiet, None)
            lib.llama_backend_init()
            _lib = lib
    return _lib


def _check_layout(words, threads_default: int) -> None:
    """The context params' defaults where the pinned version has them; else this is another llama.h."""
    seen = {i: words[i] for i in (*_CTX_DEFAULTS, _THREADS, _THREADS_BATCH)}
    want = {**_CTX_DEFAULTS, _THREADS: threads_default, _THREADS_BATCH: threads_default}
    if seen != want:
        raise RuntimeError(f"xllamacpp's llama_context_params is not the layout this lab knows "
                           f"(defaults {seen}, expected {want}): install the version pinned in requirements.txt")


class XLlama(Runner):
    backend = XLLAMA

    def __init__(self, path: str, n_ctx: int, n_threads: int, n_batch: int = 512):
        import xllamacpp

        self.L = L = _library()
        self.model = L.llama_model_load_from_file(os.fsencode(path), L.llama_model_default_params())
        if not self.model:
            raise ValueError(f"llama.cpp could not load {os.path.basename(path)}")
        params = L.llama_context_default_params()
        words = (C.c_uint32 * 16).from_buffer(params.raw)
        _check_layout(words, int(xllamacpp.GGML_DEFAULT_N_THREADS))
        words[_CTX], words[_BATCH], words[_UBATCH] = n_ctx, n_batch, n_batch
        words[_THREADS] = words[_THREADS_BATCH] = n_threads
        self.ctx = L.llama_init_from_model(self.model, params)
        if not self.ctx:
            L.llama_model_free(self.model)
            raise ValueError(f"llama.cpp could not make a {n_ctx}-token context")
        self.n_batch, self.mem = n_batch, L.llama_get_memory(self.ctx)
        self.vocab = v = L.llama_model_get_vocab(self.model)
        self.n_vocab, self.bos, self.add_bos = L.llama_vocab_n_tokens(v), L.llama_vocab_bos(v), L.llama_vocab_get_add_bos(v)
        self.eos_ids = sorted({i for i in (L.llama_vocab_eos(v), L.llama_vocab_eot(v)) if i >= 0})
        template = L.llama_model_chat_template(self.model, None)
        self.chat_template = template.decode("utf-8") if template else None
        self.recurrent = bool(L.llama_model_is_recurrent(self.model) or L.llama_model_is_hybrid(self.model))
        self.tokens: list[int] = []

    def tokenize(self, text: str, add_bos: bool, special: bool) -> list[int]:
        data = text.encode("utf-8")
        cap = len(data) + 8
        for _ in range(2):  # a negative count is the room needed
            buf = (_I32 * cap)()
            n = self.L.llama_tokenize(self.vocab, data, len(data), buf, cap, add_bos, special)
            if n >= 0:
                return list(buf[:n])
            cap = -n
        raise RuntimeError("llama_tokenize failed")

    def detokenize(self, ids: list[int], special: bool) -> bytes:
        arr = (_I32 * len(ids))(*ids)
        cap = 16 * len(ids) + 16
        for _ in range(2):
            buf = C.create_string_buffer(cap)
            n = self.L.llama_detokenize(self.vocab, arr, len(ids), buf, cap, False, special)
            if n >= 0:
                return buf.raw[:n]
            cap = -n
        raise RuntimeError("llama_detokenize failed")

    def token_text(self, i: int) -> str:
        return (self.L.llama_vocab_get_text(self.vocab, int(i)) or b"").decode("utf-8", "replace")

    def truncate(self, n: int) -> int:
        n = min(n, len(self.tokens))
        if n and (self.recurrent or not self.L.llama_memory_seq_rm(self.mem, -1, n, -1)):
            n = 0
        if n == 0:
            self.L.llama_memory_clear(self.mem, True)
        del self.tokens[n:]
        return n

    def eval(self, ids: list[int]) -> None:
        for start in range(0, len(ids), self.n_batch):  # llama_decode takes at most n_batch tokens
            chunk = ids[start:start + self.n_batch]
            arr = (_I32 * len(chunk))(*chunk)
            code = self.L.llama_decode(self.ctx, self.L.llama_batch_get_one(arr, len(chunk)))
            if code != 0:
                self.truncate(0)  # start clean rather than trust a half-written cache
                raise RuntimeError(f"llama_decode returned {code}")
            self.tokens += chunk

    def logits(self) -> np.ndarray:
        return np.ctypeslib.as_array(self.L.llama_get_logits_ith(self.ctx, -1), shape=(self.n_vocab,)).copy()

    def close(self) -> None:
        if getattr(self, "ctx", None):
            self.L.llama_free(self.ctx)
            self.ctx = None
        if getattr(self, "model", None):
            self.L.llama_model_free(self.model)
            self.model = None


# ---------------------------------------------------------------- llama-cpp-python

class PyLlama(Runner):
    backend = PYLLAMA

    def __init__(self, path: str, n_ctx: int, n_threads: int, n_batch: int = 512):
        from llama_cpp import Llama

        self.llm = llm = Llama(model_path=path, n_ctx=n_ctx, n_batch=n_batch, n_threads=n_threads,
                               n_gpu_layers=-1, logits_all=False, verbose=False)
        m = llm._model
        self.n_vocab, self.bos, self.add_bos = llm.n_vocab(), m.token_bos(), m.add_bos_token()
        self.eos_ids = sorted({i for i in (m.token_eos(), m.token_eot()) if i is not None and i >= 0})
        self.chat_template = llm.metadata.get("tokenizer.chat_template")
        self.recurrent = bool(getattr(llm, "_is_recurrent", False) or getattr(llm, "_is_hybrid", False))

    @property
    def tokens(self) -> list[int]:
        return self.llm.input_ids[: self.llm.n_tokens].tolist()

    def tokenize(self, text: str, add_bos: bool, special: bool) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=special)

    def detokenize(self, ids: list[int], special: bool) -> bytes:
        return self.llm.detokenize(list(ids), special=special)

    def token_text(self, i: int) -> str:
        return self.llm._model.token_get_text(int(i))

    def truncate(self, n: int) -> int:
        n = 0 if self.recurrent else min(n, self.llm.n_tokens)
        if n == 0:
            self.llm.reset()
        self.llm.n_tokens = n  # Llama.eval drops the KV cache past n_tokens first
        return n

    def eval(self, ids: list[int]) -> None:
        self.llm.eval(ids)

    def logits(self) -> np.ndarray:
        return np.ctypeslib.as_array(self.llm._ctx.get_logits(), shape=(self.n_vocab,)).copy()

    def close(self) -> None:
        self.llm.close()


def main(argv: list[str]) -> None:
    runner = open_gguf(argv[0], n_ctx=512, n_threads=max(1, (os.cpu_count() or 2) // 2))
    ids = runner.tokenize("The capital of France is", add_bos=runner.add_bos, special=True)
    out = []
    runner.eval(ids)
    for _ in range(8):
        out.append(int(runner.logits().argmax()))
        runner.eval(out[-1:])
    print(runner.backend, out, repr(runner.tokens_text(out)))
    runner.close()


if __name__ == "__main__":
    main(sys.argv[1:])
