"""`llmlab attention`: a model's attention on a text, its per-head statistics, and the proof that
a from-scratch recomputation gives the same weights.

    llmlab attention --model smollm2-135m-instruct --text "The cat sat on the mat" --json
    llmlab attention --model all-minilm-l6-v2 --text "Attention is all you need" --layer 2 --head 3
"""
from __future__ import annotations

import numpy as np

from apps import cliargs

MAX_TOKENS = 256  # = apps.attention.extract.MAX_TOKENS; not imported so `llmlab --help` stays light


def register(subparsers) -> None:
    p = subparsers.add_parser("attention", help="attention weights, per-head statistics and the from-scratch check")
    p.add_argument("--model", default="smollm2-135m-instruct", help="registry name, local folder or hub id")
    p.add_argument("--text", required=True, help="the text to analyse")
    p.add_argument("--max-tokens", type=cliargs.positive_int, default=MAX_TOKENS, help="refuse longer texts (default %(default)s)")
    p.add_argument("--layer", type=cliargs.non_negative_int, default=None, help="also print this layer's weights (with --head)")
    p.add_argument("--head", type=cliargs.non_negative_int, default=0, help="head printed with --layer (default %(default)s)")
    p.add_argument("--no-check", action="store_true", help="skip the from-scratch recomputation")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=run)


def run(args) -> int:
    from apps.attention.analysis import analyze, check_index, payload
    from apps.cli import emit
    from apps.models import default_cache

    a = analyze(default_cache(), args.model, args.text, max_tokens=args.max_tokens, check=not args.no_check)
    out = payload(a)
    if args.layer is not None:
        layer = check_index("layer", args.layer, a.run.n_layers)
        head = check_index("head", args.head, a.run.n_heads)
        out["weights"] = {"layer": layer, "head": head, "rows": np.round(a.run.attentions[layer, head], 4).tolist()}
    emit(out, args.json, text=_text(out))
    return 0 if out["from_scratch"].get("agrees", True) is not False else 1


def _text(out: dict) -> str:
    s = out["shapes"]
    lines = [f"{out['model']} ({out['arch']}, {'causal' if out['causal'] else 'bidirectional'}): "
             f"{s['tokens']} tokens, {s['layers']} layers x {s['heads']} heads ({s['kv_heads']} kv), head_dim {s['head_dim']}",
             "tokens: " + " | ".join(repr(tok) for tok in out["tokens"])]
    stats = {k: np.array(v) for k, v in out["head_stats"].items()}
    lines.append("layer  entropy(bits)  distance  first-token  prev-token   (mean over heads)")
    for layer in range(s["layers"]):
        lines.append(f"{layer:5d}  {stats['entropy'][layer].mean():13.2f}  {stats['distance'][layer].mean():8.2f}"
                     f"  {stats['first_token'][layer].mean():11.2f}  {stats['previous_token'][layer].mean():10.2f}")
    sinks = ", ".join(f"L{h['layer']}H{h['head']} {h['first_token']:.2f}" for h in out["top_sink_heads"])
    lines.append(f"strongest attention sinks: {sinks}")
    check = out["from_scratch"]
    if "max_abs_diff" in check:
        lines.append(f"from scratch vs model: max |diff| {check['max_abs_diff']:.2e} (tolerance {check['tolerance']:.0e}) "
                     f"{'OK' if check['agrees'] else 'MISMATCH'}")
    elif check.get("unsupported"):
        lines.append(f"from scratch: {check['unsupported']}")
    if "weights" in out:
        w = out["weights"]
        lines.append(f"layer {w['layer']} head {w['head']} weights (rows = query):")
        lines.extend("  " + " ".join(f"{x:.3f}" for x in row) for row in w["rows"])
    return "\n".join(lines)
