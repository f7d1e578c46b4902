"""One call that does everything the tab and the CLI show: load, extract, summarise, check.

    from apps.models import default_cache
    a = analyze(default_cache(), "gemma-3-270m", "Attention is all you need")
    a.diffs.max()              # ≤ 1e-4: the from-scratch recomputation agrees with the model
    payload(a)                 # plain dict, what `llmlab attention --json` prints
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from apps.attention import recipes
from apps.attention.extract import MAX_TOKENS, AttentionRun, extract
from apps.attention.stats import HeadStats, head_stats
from apps.errors import LabError
from apps.i18n import t

TOLERANCE = 1e-4  # fp32 on CPU agrees to ~1e-7; bf16/fp16 on a GPU is looser, and the report says so


@dataclass
class Analysis:
    run: AttentionRun
    stats: HeadStats
    diffs: np.ndarray | None  # (L, H) max |from scratch − model|; None when the arch is unsupported
    unsupported: str | None = None  # the reason, as an i18n-ready LabError

    @property
    def max_diff(self) -> float | None:
        return None if self.diffs is None else float(np.nanmax(self.diffs))

    @property
    def agrees(self) -> bool | None:
        return None if self.diffs is None else self.max_diff <= TOLERANCE


def load(cache, name: str):
    """The model with eager attention (sdpa cannot return attention weights)."""
    return cache.get(name, attn="eager")


def analyze(cache, name: str, text: str, max_tokens: int = MAX_TOKENS, check: bool = True) -> Analysis:
    lm = load(cache, name)
    run = extract(lm, text, max_tokens)
    stats = head_stats(run.attentions, run.causal)
    diffs, unsupported = None, None
    if check:
        try:
            diffs = recipes.agreement(lm.model, run.layer_inputs, run.attentions)
        except LabError as exc:
            unsupported = exc
    return Analysis(run=run, stats=stats, diffs=diffs, unsupported=unsupported)


def _mark(ok: bool) -> str:
    return "✓" if ok else "✗"  # plain symbols: emoji fonts are often missing


def summary_markdown(a: Analysis, lang: str) -> str:
    run = a.run
    lines = [t("attention.summary_line", lang, model=run.model, arch=run.arch,
               kind=t("attention.causal" if run.causal else "attention.bidirectional", lang),
               tokens=run.n_tokens, layers=run.n_layers, heads=run.n_heads, kv_heads=run.n_kv_heads,
               head_dim=run.head_dim, seconds=run.seconds)]
    if a.diffs is not None:
        lines.append(t("attention.agree_line", lang, n=a.diffs.size, diff=a.max_diff, tol=TOLERANCE,
                       mark=_mark(a.agrees)))
    elif a.unsupported is not None:
        lines.append(a.unsupported.message(lang))
    return "\n\n".join(lines)


def scratch_markdown(run: AttentionRun, layer: int, head: int, diff: float, lang: str) -> str:
    kv = head // max(1, run.n_heads // run.n_kv_heads)
    return t("attention.scratch_line", lang, layer=layer, head=head, kv=kv, diff=diff, mark=_mark(diff <= TOLERANCE))


def look_markdown(run: AttentionRun, targets: list[list[tuple[int, float]]], lang: str) -> str:
    rows = [t("attention.look_header", lang)]
    for layer, best in enumerate(targets):
        cells = " · ".join(f"`{run.tokens[k]!r}`[{k}] {w:.2f}" for k, w in best)
        rows.append(f"| {layer} | {cells} |")
    return "\n".join(rows)


def check_index(what: str, value, upper: int, lang: str = "en") -> int:
    """An int in 0..upper-1, or a LabError naming the field."""
    try:
        index = int(value)
    except (TypeError, ValueError):
        index = -1
    if not 0 <= index < upper:
        raise LabError("attention.bad_index", what=what, value=value, max=upper - 1)
    return index


def payload(a: Analysis, top_heads: int = 5) -> dict:
    """Plain dict for --json: shapes, tokens, per-head statistics and the from-scratch agreement."""
    run, stats = a.run, a.stats
    sinks = np.dstack(np.unravel_index(np.argsort(-stats.first_token, axis=None), stats.first_token.shape))[0]
    out = {
        "model": run.model, "arch": run.arch, "causal": run.causal, "tokens": run.tokens, "ids": run.ids,
        "shapes": run.shapes(), "forward_seconds": round(run.seconds, 4),
        "head_stats": stats.as_dict(),
        "top_sink_heads": [{"layer": int(l), "head": int(h), "first_token": round(float(stats.first_token[l, h]), 4)}
                           for l, h in sinks[:top_heads]],
    }
    if a.diffs is not None:
        out["from_scratch"] = {
            "max_abs_diff": a.max_diff, "tolerance": TOLERANCE, "agrees": a.agrees,
            "per_layer_max": [float(x) for x in np.nanmax(a.diffs, axis=1)],
        }
    else:
        out["from_scratch"] = {"unsupported": a.unsupported.message("en") if a.unsupported else None}
    return out
