"""The same GGUF through the lab's PyTorch engine and through llama.cpp, side by side (JSON).

    .venv/bin/python bench/gguf.py [--model smollm2-135m-instruct] [--tokens 64] [--runs 3]

For one registry GGUF model, greedy decode of one chat prompt, median of --runs:
- lab_torch: `generate()` on the model dequantised to fp32 (the lab's batching engine, one stream);
- lab_llama_cpp: `generate()` on "<model>@llama.cpp" (apps/models/llamacpp.py: llama.cpp's forward pass,
  the lab's token choice and per-token log-probabilities with top-5 alternatives);
- llama_cpp_native: llama.cpp's own loop through the same binding (bench/llama_native.py: xllamacpp's
  in-process llama-server, or llama-cpp-python's `create_chat_completion`; no log-probabilities),
  to show what the lab's per-token loop costs on top of llama.cpp.
Decode tokens/s exclude the prompt; memory: the fp32 weights vs the GGUF file plus its KV cache.
Without a llama.cpp binding only the PyTorch column is measured and the report says so.
`--backend` picks the binding (else LLMLAB_LLAMA, else xllamacpp where installed).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# This file is named like the `gguf` package the lab reads GGUF headers with: drop bench/ from the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

PROMPT = "Write a long, detailed story about a dragon who learns to read. Use many paragraphs."


def _lab(name: str, tokens: int, runs: int) -> dict:
    from apps.models import default_cache
    from apps.models.generation import GenerationConfig, generate

    lm = default_cache().get(name)
    generate(lm, "warm up", GenerationConfig(max_new_tokens=4))
    results = [generate(lm, PROMPT, GenerationConfig(max_new_tokens=tokens, top_logprobs=5)) for _ in range(runs)]
    return {"decode_tok_s": round(statistics.median(r.tokens_per_s for r in results), 2),
            "ttft_ms": round(statistics.median(r.ttft_s for r in results) * 1000, 1),
            "tokens": results[0].completion_tokens, "memory_mb": lm.nbytes >> 20, "text": results[0].text[:80]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m-instruct", help="a registry GGUF model")
    parser.add_argument("--tokens", type=int, default=64, help="new tokens per run")
    parser.add_argument("--runs", type=int, default=3, help="runs per engine (median)")
    parser.add_argument("--backend", choices=["xllamacpp", "llama-cpp-python"], help="llama.cpp binding")
    args = parser.parse_args()
    if args.backend:
        os.environ["LLMLAB_LLAMA"] = args.backend
    from apps.models import llamacpp
    from apps.models.registry import resolve

    if resolve(args.model).source != "gguf":
        raise SystemExit(f"{args.model} is not a registry GGUF model")
    report = {"model": args.model, "cpus": os.cpu_count(), "llama_threads": llamacpp._threads(),
              "tokens": args.tokens, "runs": args.runs}
    report["lab_torch"] = _lab(args.model, args.tokens, args.runs)
    if not llamacpp.available():
        report["llama_cpp"] = "no llama.cpp binding installed (xllamacpp: make install)"
    else:
        from bench.llama_native import decode_tok_s

        ref = args.model + llamacpp.SUFFIX
        report["lab_llama_cpp"] = {"backend": llamacpp.llamacpp_backends.backend(),
                                   **_lab(ref, args.tokens, args.runs)}
        report["llama_cpp_native"] = decode_tok_s(str(llamacpp.file_of(llamacpp.resolve(ref))), args.tokens, args.runs)
        torch_speed = report["lab_torch"]["decode_tok_s"]
        report["llama_cpp_vs_torch"] = round(report["lab_llama_cpp"]["decode_tok_s"] / torch_speed, 2)
        report["lab_loop_vs_native"] = round(report["lab_llama_cpp"]["decode_tok_s"]
                                             / report["llama_cpp_native"]["decode_tok_s"], 2)
        report["memory_ratio_torch_vs_llama_cpp"] = round(report["lab_torch"]["memory_mb"]
                                                          / max(1, report["lab_llama_cpp"]["memory_mb"]), 2)
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
