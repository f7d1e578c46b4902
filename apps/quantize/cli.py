"""`llmlab quantize`: shrink a model and measure what it costs, or look at one trick at a time.

    llmlab quantize --model smollm2-135m-instruct --method int8 --json        # baseline vs quantised
    llmlab quantize --model smollm2-135m-instruct --method int4 --group-size 64 --output runs/q/smol-int4
    llmlab quantize --model M --method int4 --eval-text my.txt --samples 2     # own text, replies side by side
    llmlab quantize byhand --model M --weight model.layers.0.mlp.down_proj.weight --json
    llmlab quantize gguf --model gemma-3-270m            # tensor types of a shipped GGUF (or any .gguf file)
    llmlab quantize export --model runs/pretrain/me-1 --output tiny.gguf --gguf-type q8_0   # a lab model → GGUF
    llmlab quantize kv --model M --new-tokens 48         # KV cache on vs off
    llmlab quantize kvsize --model gemma-3-270m          # GQA vs MHA vs MQA cache bytes
    llmlab quantize lookup --model M                     # prompt-lookup (speculative) decoding
    llmlab quantize attention --model M                  # sdpa vs eager

The quantised model is usable everywhere as "M+int8" / "M+int4" (e.g. `llmlab generate --model
smollm2-135m-instruct+int4`) or, after --output, as the saved folder. Bad input exits 2 with a message.
"""
from __future__ import annotations

import argparse

from apps import cliargs
from apps.errors import LabError

ACTIONS = ("compare", "byhand", "gguf", "export", "kv", "kvsize", "lookup", "attention")


def register(subparsers) -> None:
    from apps.models.registry import QUANT_METHODS

    p = subparsers.add_parser("quantize", help="quantise a model (int8/int4/nf4/bf16) and measure size, speed, perplexity",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("action", nargs="?", default="compare", choices=ACTIONS, help="what to do (default: compare)")
    p.add_argument("--model", default="smollm2-135m-instruct", help="registry name or local folder")
    p.add_argument("--method", default="int8", help=f"one of {', '.join(QUANT_METHODS)} (nf4 needs CUDA)")
    p.add_argument("--group-size", type=int, default=32, help="int4: weights sharing one scale and zero-point")
    p.add_argument("--eval-text", default=None, type=cliargs.readable_text_file, help="UTF-8 text file for perplexity (default: the lab's zh/en text)")
    p.add_argument("--output", default=None, help="compare: save the quantised model to this new folder; export: the new .gguf file")
    p.add_argument("--samples", type=int, default=0, help="prompts to answer with both models, side by side (0-3)")
    p.add_argument("--new-tokens", type=int, default=32, help="tokens to decode when timing (kv, lookup, speed)")
    p.add_argument("--weight", default=None, help="byhand: the weight matrix (default: the first MLP down_proj)")
    p.add_argument("--bits", type=int, default=8, choices=(8, 4), help="byhand: the bits of the histogram shown")
    p.add_argument("--gguf-type", default="q8_0", help="export: f32, f16 or q8_0 (llama.cpp's int8)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def _check_args(args) -> None:
    if not 1 <= args.group_size <= 4096 or args.group_size & (args.group_size - 1):
        raise LabError("quantize.bad_group", group=args.group_size)
    if not 0 <= args.samples <= 3:
        raise LabError("quantize.bad_samples")
    if not 4 <= args.new_tokens <= 512:
        raise LabError("quantize.bad_new_tokens")


def _generative(args):
    """The ModelSpec of --model, refused if it is an embedding model (no KV cache, no text to time)."""
    from apps.models.registry import EMBEDDING, resolve, split_quant

    spec = resolve(split_quant(args.model)[0])
    if spec.kind == EMBEDDING:
        raise LabError("quantize.embedding_model", name=spec.name)
    return spec


def _loaded(args):
    from apps.models import default_cache

    _generative(args)
    return default_cache().get(args.model)


def run(args) -> int:
    from apps.cli import emit

    _check_args(args)
    if args.action == "compare":
        if args.output:  # a new folder here; `export` checks its .gguf file itself
            from apps.userfiles import check_output_folder

            check_output_folder(args.output)
        from apps.quantize.measure import compare

        r = compare(args.model, args.method, eval_path=args.eval_text, output=args.output,
                    group_size=args.group_size, samples=args.samples, new_tokens=args.new_tokens)
        b, q, x = r["baseline"], r["quantized"], r["ratios"]
        text = (f"{r['model']} → {r['method']}\n"
                f"  size      {b['size_mb']:>8.1f} MB → {q['size_mb']:>8.1f} MB  (x{x['size']})\n"
                f"  perplexity{b['perplexity']:>8.3f}    → {q['perplexity']:>8.3f}     (x{x['perplexity']})\n"
                f"  tokens/s  {b['tokens_per_s']:>8.2f}    → {q['tokens_per_s']:>8.2f}     (x{x['tokens_per_s']})")
        for s in r.get("samples", []):
            text += f"\n\n> {s['prompt']}\n[baseline]  {s['baseline']}\n[quantized] {s['quantized']}"
        if r.get("saved"):
            text += f"\nsaved: {r['saved']}"
        emit(r, args.json, text)
        return 0
    if args.action == "gguf":
        from apps.quantize.gguf_types import summary

        s = summary(args.model)
        if not args.json:
            s.pop("tensors")  # 272+ rows: JSON only
        emit(s, args.json, f"{s['file']} ({s['file_mb']} MB, {s['bits_per_weight']} bits/weight)\n" + "\n".join(
            f"  {t['type']:<5} {t['tensors']:>4} tensors {t['bytes'] / 2**20:>8.1f} MB {t['bits_per_weight']:>6} bits/weight"
            for t in s["types"]))
        return 0
    if args.action == "export":
        from apps.quantize.gguf_export import export_gguf

        if not args.output:
            raise LabError("quantize.gguf_suffix", path="")
        r = export_gguf(args.model, args.output, args.gguf_type)
        emit(r, args.json, f"{r['model']} → {r['path']} ({r['qtype']}, {r['size_mb']} MB, {r['tensors']} tensors)\n"
             f"llama.cpp: llama-cli -m {r['path']}   transformers: from_pretrained(folder, gguf_file=name)")
        return 0
    if args.action == "kvsize":
        from transformers import AutoConfig

        from apps.models.loading import model_dir
        from apps.quantize.tricks import kv_cache_size

        config = AutoConfig.from_pretrained(model_dir(_generative(args)))
        s = kv_cache_size(config)
        emit(s, args.json, f"{s['layers']} layers, {s['heads']} query heads, {s['kv_heads']} kv heads × {s['head_dim']}\n"
             + "\n".join(f"  {r['tokens']:>6} tokens: GQA {r['gqa_bytes'] / 2**20:8.1f} MB  MHA {r['mha_bytes'] / 2**20:8.1f} MB"
                         f"  MQA {r['mqa_bytes'] / 2**20:8.1f} MB" for r in s["rows"]))
        return 0
    if args.action == "attention":
        from apps.models import default_cache
        from apps.quantize.tricks import attention_speed

        _loaded(args)
        s = attention_speed(default_cache(), args.model)
        emit(s, args.json, "\n".join(f"{r['tokens']:>5} tokens: sdpa {r['sdpa_ms']} ms, eager {r['eager_ms']} ms" for r in s["rows"]))
        return 0
    lm = _loaded(args)
    if args.action == "byhand":
        from apps.quantize import byhand

        name = args.weight or next((n for n in byhand.weight_names(lm.model) if "down_proj" in n), byhand.weight_names(lm.model)[0])
        w = byhand.weight(lm.model, name)
        rows = byhand.compare(w, args.group_size)
        out = {"weight": name, "shape": list(w.shape), "rows": rows, "outliers": byhand.outlier_demo(w, bits=args.bits)}
        emit(out, args.json, f"{name} {tuple(w.shape)}\n" + "\n".join(
            f"  {r['label']:<28} mse {r['mse']:.3e}  max {r['max_err']:.3e}" for r in rows))
        return 0
    from apps.quantize import tricks

    if args.action == "kv":
        s = tricks.kv_cache_speed(lm, args.new_tokens)
        emit(s, args.json, f"with cache {s['with_cache_tokens_per_s']} tok/s, without {s['without_cache_tokens_per_s']} tok/s"
             f" (x{s['speedup']}), same text: {s['same_output']}")
        return 0
    s = tricks.prompt_lookup(lm, max_new_tokens=args.new_tokens)
    emit(s, args.json, f"acceptance {s['acceptance_rate']:.0%} ({s['accepted']}/{s['proposed']}), forward passes "
         f"{s['forward_passes']} vs {s['plain_forward_passes']}, speed-up x{s['speedup']} (transformers: x{s['hf_speedup']}),"
         f" same text: {s['same_output']}")
    return 0
