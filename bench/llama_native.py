"""llama.cpp's own decode loop on a GGUF, with no lab code per token: what bench/gguf.py and
bench/load.py compare the lab's engines against.

- xllamacpp: llama-server's loop, in C++, called in process (`Server.handle_chat_completions`);
  the speed is llama.cpp's own timing of the decoded tokens (`timings.predicted_per_second`).
  (The server also listens on a random 127.0.0.1 port while it lives; its log goes to stderr.)
- llama-cpp-python: `create_chat_completion(stream=True)` (a Python loop around llama.cpp's
  sampler), first streamed token to last.

    PYTHONPATH=. .venv/bin/python bench/llama_native.py [--backend xllamacpp] [--tokens 64]
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

PROMPT = "Write a long, detailed story about a dragon who learns to read. Use many paragraphs."


def _xllamacpp(path: str, prompt: str, tokens: int, runs: int, threads: int) -> list[float]:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path, params.n_ctx, params.n_parallel = path, 2048, 1
    params.cpuparams.n_threads = params.cpuparams_batch.n_threads = threads
    params.verbosity = -1
    server = xllamacpp.Server(params)
    request = {"messages": [{"role": "user", "content": prompt}], "max_tokens": tokens, "temperature": 0}
    server.handle_chat_completions({**request, "max_tokens": 4})  # warm up
    speeds = [server.handle_chat_completions(request)["timings"]["predicted_per_second"] for _ in range(runs)]
    del server
    return speeds


def _llama_cpp_python(path: str, prompt: str, tokens: int, runs: int, threads: int) -> list[float]:
    from llama_cpp import Llama

    llm = Llama(model_path=path, n_ctx=2048, n_threads=threads, verbose=False, logits_all=False)
    speeds = []
    for _ in range(runs):
        llm.reset()
        first, n = None, 0
        for _chunk in llm.create_chat_completion(messages=[{"role": "user", "content": prompt}], max_tokens=tokens,
                                                 temperature=0, stream=True):
            n += 1
            first = first or time.perf_counter()
        speeds.append((n - 1) / (time.perf_counter() - first) if n > 1 and first else 0.0)
    llm.close()
    return speeds


def decode_tok_s(path: str, tokens: int = 64, runs: int = 3, threads: int | None = None,
                 backend: str | None = None, prompt: str = PROMPT) -> dict:
    """Median greedy decode tokens/s of llama.cpp's own loop through `backend` (default: the one the
    lab's engine uses, apps.models.llamacpp_backends.backend())."""
    from apps.models import llamacpp, llamacpp_backends

    backend = backend or llamacpp_backends.backend()
    threads = threads or llamacpp._threads()  # the lab engine's own count, unless told
    run = {llamacpp_backends.XLLAMA: _xllamacpp, llamacpp_backends.PYLLAMA: _llama_cpp_python}.get(backend)
    if run is None:
        return {"backend": None, "error": "no llama.cpp binding installed"}
    speeds = run(str(path), prompt, tokens, runs, threads)
    return {"backend": backend, "decode_tok_s": round(statistics.median(speeds), 2), "threads": threads}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m-instruct", help="a registry GGUF model")
    parser.add_argument("--backend", default=None, choices=["xllamacpp", "llama-cpp-python"], help="binding")
    parser.add_argument("--tokens", type=int, default=64, help="new tokens per run")
    parser.add_argument("--runs", type=int, default=3, help="runs (median)")
    args = parser.parse_args()
    from apps.models import llamacpp

    path = llamacpp.file_of(llamacpp.resolve(args.model + llamacpp.SUFFIX))
    print(json.dumps(decode_tok_s(str(path), args.tokens, args.runs, backend=args.backend), indent=2))


if __name__ == "__main__":
    main()
