"""CLI of the Playground: `llmlab generate`, `llmlab tokenize`, `llmlab models`, `llmlab compare`.

    llmlab generate --model smollm2-135m-instruct --prompt "What is attention?" --json
    llmlab generate --model gemma-3-270m --prompt "从前有座山" --sample --temperature 0.8 --seed 1
    llmlab tokenize --model gemma-3-270m --text "大模型" --json
    llmlab compare --models smollm2-135m-instruct gemma-3-270m --prompt "What is a token?" --presets greedy
"""
from __future__ import annotations

import sys

from apps import cliargs
from apps.cli import emit
from apps.errors import LabError


def _add_decoding(p) -> None:
    g = p.add_argument_group("decoding")
    g.add_argument("--max-new-tokens", type=int, default=128, help="most tokens to generate")
    g.add_argument("--sample", action="store_true", help="sample instead of greedy decoding")
    g.add_argument("--temperature", type=float, default=1.0, help="softmax temperature (with --sample)")
    g.add_argument("--top-k", type=int, default=0, help="keep the k likeliest tokens (0 = off)")
    g.add_argument("--top-p", type=float, default=1.0, help="nucleus: keep tokens up to this mass (1 = off)")
    g.add_argument("--min-p", type=float, default=0.0, help="drop tokens below min_p × p(best) (0 = off)")
    g.add_argument("--repetition-penalty", type=float, default=1.0, help=">1 discourages repeats")
    g.add_argument("--num-beams", type=int, default=1, help="beam search width (1 = off)")
    g.add_argument("--seed", type=cliargs.seed, default=None, help="random seed for reproducible sampling")
    g.add_argument("--stop", action="append", default=[], help="stop string (repeatable)")
    g.add_argument("--top-logprobs", type=int, default=5, help="alternatives recorded per token")


def register(sub) -> None:
    p = sub.add_parser("generate", help="generate text with a model; prints text, tokens, tokens/s, TTFT")
    p.add_argument("--model", default="smollm2-135m-instruct", help="registry name, local folder or hub id")
    p.add_argument("--prompt", required=True, help="the user message (chat models) or text to continue")
    p.add_argument("--system", default=None, help="system prompt (chat models)")
    p.add_argument("--adapter", default=None, type=cliargs.adapter_folder, help="a peft adapter folder to apply")
    p.add_argument("--json", action="store_true", help="print JSON")
    _add_decoding(p)
    p.set_defaults(func=_generate)

    p = sub.add_parser("tokenize", help="show how a model's tokenizer splits a text")
    p.add_argument("--model", default="smollm2-135m-instruct")
    p.add_argument("--text", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_tokenize)

    p = sub.add_parser("compare", help="one prompt, 1–4 (model × decoding preset) pairs, side by side")
    p.add_argument("--models", nargs="+", default=["smollm2-135m-instruct"], help="e.g. a base and an instruct model")
    p.add_argument("--prompt", required=True)
    p.add_argument("--presets", nargs="+", default=["greedy", "balanced"], help="names from the preset list")
    p.add_argument("--max-new-tokens", type=cliargs.positive_int, default=64)
    p.add_argument("--seed", type=cliargs.seed, default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_compare)

    p = sub.add_parser("models", help="list the registry's models")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_models)


def _config(args):
    from apps.models.generation import GenerationConfig

    return GenerationConfig(
        max_new_tokens=args.max_new_tokens, do_sample=args.sample, temperature=args.temperature,
        top_k=args.top_k, top_p=args.top_p, min_p=args.min_p, repetition_penalty=args.repetition_penalty,
        num_beams=args.num_beams, seed=args.seed, stop=args.stop, top_logprobs=args.top_logprobs,
    ).validate()


def result_dict(result) -> dict:
    return {
        "text": result.text, "finish_reason": result.finish_reason, "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens, "ttft_s": round(result.ttft_s, 4),
        "total_s": round(result.total_s, 4), "tokens_per_s": round(result.tokens_per_s, 2), "seed": result.seed,
    }


def _generate(args) -> int:
    if not (args.prompt or "").strip():  # before torch and the model load (~10 s)
        raise LabError("gen.empty_prompt")
    from apps.models import default_cache
    from apps.models.generation import stream

    cfg = _config(args)
    lm = default_cache().get(args.model, adapter=args.adapter)
    result = None
    for chunk in stream(lm, args.prompt, cfg, system=args.system):
        if chunk.token and not args.json:
            sys.stdout.write(chunk.token.text)
            sys.stdout.flush()
        result = chunk.result or result
    payload = result_dict(result) | {
        "model": lm.name, "prompt": result.prompt, "config": cfg.to_dict(),
        "tokens": [{"id": t.id, "text": t.text, "logprob": round(t.logprob, 5),
                    "top": [{"text": a, "id": i, "logprob": round(lp, 5)} for a, i, lp in t.top]}
                   for t in result.tokens],
    }
    if args.json:
        emit(payload, True)
    else:
        print(f"\n--\n{result.completion_tokens} tokens · {result.tokens_per_s:.1f} tok/s · "
              f"TTFT {result.ttft_s * 1000:.0f} ms · {result.finish_reason}")
    return 0


def _tokenize(args) -> int:
    from apps.models import default_cache
    from apps.models.generation import tokenize

    tokens = tokenize(default_cache().get(args.model), args.text)
    emit({"model": args.model, "count": len(tokens), "tokens": tokens}, args.json,
         " ".join(f"[{t['text']}|{t['id']}]" for t in tokens) + f"\n{len(tokens)} tokens")
    return 0


def _compare(args) -> int:
    from apps.models import default_cache
    from apps.playground.decoding import check_pairs, compare, describe, preset

    check_pairs(len(args.models), args.presets, args.max_new_tokens, args.seed)  # before any model loads
    lms = [default_cache().get(m) for m in args.models]
    rows = compare(lms, args.prompt, args.presets, args.max_new_tokens, args.seed)
    payload = [{"model": m, "preset": n, "setting": describe(preset(n))} | result_dict(r) for m, n, r in rows]
    emit(payload, args.json, "\n\n".join(f"## {p['model']} · {p['preset']} ({p['setting']})\n{p['text']}"
                                         for p in payload))
    return 0


def _models(args) -> int:
    from apps.models.registry import list_models

    rows = [{"name": s.name, "kind": s.kind, "offline": s.offline, "source": s.source, "upstream": s.hub_id,
             "description": s.description[1]} for s in list_models()]
    emit(rows, args.json, "\n".join(f"{r['name']:28} {r['kind']:10} {'offline' if r['offline'] else 'online'}"
                                    f"  {r['description']}" for r in rows))
    return 0
