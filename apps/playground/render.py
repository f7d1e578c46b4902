"""HTML for the token view: the prompt split into tokens, the reply coloured by probability.

Plain string building (no gradio), so the CLI, a notebook and the tab show the same thing. Every
piece of model text is HTML-escaped: a model can emit '<script>'.
"""
from __future__ import annotations

import html
import math

# Cycling pastel backgrounds tell neighbouring prompt tokens apart (as tokenizer playgrounds do).
_PALETTE = ["#fde68a", "#bfdbfe", "#bbf7d0", "#fbcfe8", "#ddd6fe", "#fed7aa"]


def _visible(text: str) -> str:
    """Make whitespace inside a token visible: a space is · and a newline ↵."""
    return html.escape(text.replace(" ", "·").replace("\n", "↵\n").replace("\t", "→"))


def prompt_tokens_html(tokens: list[dict]) -> str:
    """tokens: [{id, piece, text}] from generation.tokenize."""
    spans = [
        f'<span class="tok" style="background:{_PALETTE[i % len(_PALETTE)]}" '
        f'title="id {t["id"]} · {html.escape(repr(t["piece"]))}">{_visible(t["text"]) or "∅"}'
        f'<sub class="tid">{t["id"]}</sub></span>'
        for i, t in enumerate(tokens)
    ]
    return f'<div class="llmlab-tokens" data-count="{len(tokens)}">{"".join(spans)}</div>'


def prob_colour(p: float) -> str:
    """Green for confident tokens, through yellow, to red for unlikely ones (HSL hue 0–120)."""
    hue = int(120 * max(0.0, min(1.0, p)))
    return f"hsl({hue}, 85%, 80%)"


def reply_tokens_html(tokens: list) -> str:
    """tokens: TokenInfo list. Hover shows p and the top alternatives."""
    spans = []
    for t in tokens:
        p = math.exp(t.logprob)
        alts = " | ".join(f"{alt_text!r} {math.exp(lp):.1%}" for alt_text, _id, lp in t.top)
        title = html.escape(f"p={p:.1%} · id {t.id}\n{alts}")
        spans.append(
            f'<span class="tok" style="background:{prob_colour(p)}" data-p="{p:.4f}" title="{title}">'
            f"{_visible(t.text) or '∅'}</span>"
        )
    return f'<div class="llmlab-tokens llmlab-reply" data-count="{len(tokens)}">{"".join(spans)}</div>'


def alternatives_rows(tokens: list) -> list[list]:
    """One row per generated token: position, token, probability, then the top alternatives."""
    rows = []
    for pos, t in enumerate(tokens):
        alts = ", ".join(f"{alt!r} {math.exp(lp):.0%}" for alt, _id, lp in t.top[:5])
        rows.append([pos, repr(t.text), round(math.exp(t.logprob), 4), alts])
    return rows
