"""Benchmark the model layer on this machine; prints JSON.

    .venv/bin/python bench/generate.py [--model smollm2-135m-instruct] [--tokens 64] [--repeats 3]

Measures, each in a fresh process so 'cold' means cold:
- load_first_s: first load from GGUF (dequantise + save the safetensors cache), in an empty LLMLAB_HOME;
- load_cached_s: a later cold load from that cache;
- ttft_s and decode tokens/s of the lab's engine (greedy, logprobs with top-5 alternatives recorded),
  side by side with plain `transformers` `model.generate` on the same model, prompt and length;
- peak resident memory of each process.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

PROMPT = [{"role": "user", "content": "Explain in a few sentences why the sky is blue."}]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_load(model: str) -> dict:
    from apps.models.loading import load_model

    started = time.perf_counter()
    lm = load_model(model)
    return {"seconds": time.perf_counter() - started, "peak_rss_mb": _peak_mb(), "params": sum(p.numel() for p in lm.model.parameters())}


def phase_speed(model: str, tokens: int, repeats: int) -> dict:
    import torch

    from apps.models.generation import GenerationConfig, generate, render_prompt
    from apps.models.loading import load_model

    lm = load_model(model)
    prompt = render_prompt(lm, PROMPT)
    ids = lm.tokenizer(prompt, return_tensors="pt", add_special_tokens=not lm.is_chat)
    # Both sides generate exactly `tokens` tokens: no EOS stop, so the work is identical.
    cfg = GenerationConfig(max_new_tokens=tokens, top_logprobs=5)
    eos_free = dict(eos_token_id=None, pad_token_id=lm.tokenizer.eos_token_id)

    def hf(n):
        with torch.inference_mode():
            t0 = time.perf_counter()
            lm.model.generate(**ids, max_new_tokens=n, min_new_tokens=n, do_sample=False, **eos_free)
            return time.perf_counter() - t0

    def ours():
        from apps.models import generation

        saved = generation._eos_ids
        generation._eos_ids = lambda _lm: set()  # measure a fixed length, like min_new_tokens above
        try:
            return generate(lm, PROMPT, cfg)
        finally:
            generation._eos_ids = saved

    hf(2), ours()  # warm-up
    hf_ttft, hf_total, our_ttft, our_tps = [], [], [], []
    for _ in range(repeats):
        hf_ttft.append(hf(1))
        hf_total.append(hf(tokens))
        r = ours()
        our_ttft.append(r.ttft_s)
        our_tps.append(r.tokens_per_s)
    hf_tps = [(tokens - 1) / (total - first) for total, first in zip(hf_total, hf_ttft)]
    med = statistics.median
    return {
        "prompt_tokens": int(ids.input_ids.shape[1]), "new_tokens": tokens, "threads": torch.get_num_threads(),
        "lab": {"ttft_s": med(our_ttft), "decode_tokens_per_s": med(our_tps)},
        "transformers_generate": {"ttft_s": med(hf_ttft), "decode_tokens_per_s": med(hf_tps)},
        "decode_speed_ratio_lab_over_hf": med(our_tps) / med(hf_tps),
        "ttft_ratio_lab_over_hf": med(our_ttft) / med(hf_ttft),
        "peak_rss_mb": _peak_mb(),
    }


def _sub(args: list[str], env: dict | None = None) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-135m-instruct", help="registry model to measure")
    parser.add_argument("--tokens", type=int, default=64, help="tokens to generate per run")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measure (median reported)")
    parser.add_argument("--phase", choices=["load", "speed"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "load":
        print(json.dumps(phase_load(args.model)))
        return
    if args.phase == "speed":
        print(json.dumps(phase_speed(args.model, args.tokens, args.repeats)))
        return
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, LLMLAB_HOME=home)
        first = _sub(["--phase", "load", "--model", args.model], env)
        cached = _sub(["--phase", "load", "--model", args.model], env)
    _sub(["--phase", "load", "--model", args.model])  # make sure the user's own cache is warm
    speed = _sub(["--phase", "speed", "--model", args.model, "--tokens", str(args.tokens), "--repeats", str(args.repeats)])
    print(json.dumps({
        "model": args.model, "machine": {"cpus": os.cpu_count()},
        "load_first_s": round(first["seconds"], 2), "load_cached_s": round(cached["seconds"], 2),
        "load_speedup_cached": round(first["seconds"] / cached["seconds"], 1),
        "load_peak_rss_mb": {"first": round(first["peak_rss_mb"]), "cached": round(cached["peak_rss_mb"])},
        **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in speed.items() if k not in ("lab", "transformers_generate")},
        "lab": {k: round(v, 4) for k, v in speed["lab"].items()},
        "transformers_generate": {k: round(v, 4) for k, v in speed["transformers_generate"].items()},
    }, indent=2))


if __name__ == "__main__":
    main()
