"""Quantisation and inference tricks on this machine; prints JSON.

    .venv/bin/python bench/quantize.py [--model smollm2-135m-instruct] [--methods int8 int4] [--groups 32 64]

For each method (int4 once per group size): the CLI contract's table, baseline (the model as the lab
loads it, fp32 on CPU) vs quantised — weights in memory and on disk, perplexity on the lab's unseen
zh/en text, decode tokens/s through the generation engine — with the issue's targets checked
(int8: perplexity ≤ 1.05x at ≤ 0.5x size; int4: ≤ 1.5x at ≤ 0.4x). Then the inference tricks:
KV cache on vs off, GQA cache size (formula and measured), prompt-lookup decoding (ours, with its
acceptance rate, and transformers' own), sdpa vs eager prefill.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGETS = {"int8": (1.05, 0.5), "int4": (1.5, 0.4)}  # (perplexity ratio, size ratio) at most


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-135m-instruct", help="registry model to quantise")
    parser.add_argument("--methods", nargs="+", default=["int8", "int4"], help="methods to compare")
    parser.add_argument("--groups", nargs="+", type=int, default=[32, 64], help="int4 group sizes (SmolLM2: divisors of 576)")
    parser.add_argument("--new-tokens", type=int, default=32, help="tokens decoded when timing")
    parser.add_argument("--skip-tricks", action="store_true", help="only the quantisation table")
    args = parser.parse_args(argv)

    import torch

    from apps.models import default_cache
    from apps.quantize import measure, tricks

    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    cache = default_cache()
    started = time.perf_counter()
    out = {"model": args.model, "torch": torch.__version__, "threads": torch.get_num_threads(), "runs": []}
    for method in args.methods:
        for group in (args.groups if method == "int4" else [32]):
            r = measure.compare(args.model, method, cache=cache, group_size=group, samples=1, new_tokens=args.new_tokens)
            if method in TARGETS:
                ppl_max, size_max = TARGETS[method]
                r["target"] = {"perplexity_ratio_max": ppl_max, "size_ratio_max": size_max,
                               "met": r["ratios"]["perplexity"] <= ppl_max and r["ratios"]["size"] <= size_max}
            out["runs"].append(r)
            print(f"{method} g{group}: {r['ratios']}", file=sys.stderr, flush=True)
    if not args.skip_tricks:
        lm = cache.get(args.model)
        out["kv_cache"] = {k: v for k, v in tricks.kv_cache_speed(lm, new_tokens=64).items() if not k.endswith("_ms")}
        n = 256
        out["kv_cache_size"] = tricks.kv_cache_size(lm.model.config)
        out["kv_cache_size"]["measured_fp32_bytes_at_256"] = tricks.measured_kv_bytes(lm, n)
        out["kv_cache_size"]["formula_fp32_bytes_at_256"] = tricks.kv_cache_size(lm.model.config, (n,), 4)["rows"][0]["gqa_bytes"]
        look = tricks.prompt_lookup(lm, max_new_tokens=64)
        look.pop("text")
        out["prompt_lookup"] = look
        out["attention"] = tricks.attention_speed(cache, args.model, lengths=(128, 512, 1024))
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False, indent=2))
