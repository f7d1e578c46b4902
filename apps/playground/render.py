"""HTML for the token view: the prompt split into tokens, the reply coloured by probability.

Plain string building (no gradio), so the CLI, a notebook and the tab show the same thing. Every
piece of model text is HTML-escaped: a model can emit '<script>'. A token that is only part of a
character shows its bytes (<E5><A4>, apps.models.tokens); the tokens of one character are drawn
together under it.
"""
from __future__ import annotations

import html
import math

from apps.models.tokens import group_bytes

# Cycling pastel backgrounds tell neighbouring prompt tokens apart (as tokenizer playgrounds do).
_PALETTE = ["#fde68a", "#bfdbfe", "#bbf7d0", "#fbcfe8", "#ddd6fe", "#fed7aa"]


def _visible(text: str) -> str:
    """Make whitespace inside a token visible: a space is · and a newline ↵."""
    return html.escape(text.replace(" ", "·").replace("\n", "↵\n").replace("\t", "→"))


def _grouped(spans: list[str], chunks: list[bytes]) -> str:
    """spans joined, each run of tokens that makes one character wrapped under that character."""
    for start, end, chars in reversed(group_bytes(chunks)):
        spans[start:end] = [f'<span class="tokgroup" title="{html.escape(chars)}"><span class="tokchar">'
                            f'{html.escape(chars)}</span><span class="tokparts">{"".join(spans[start:end])}</span></span>']
    return "".join(spans)


def _chunks(tokens: list) -> list[bytes]:
    """Each token's bytes: TokenInfo.raw, a tokenize() dict's hex "bytes", else its text's UTF-8."""
    out = []
    for t in tokens:
        raw = t.get("bytes") if isinstance(t, dict) else getattr(t, "raw", b"")
        text = t["text"] if isinstance(t, dict) else t.text
        out.append(bytes.fromhex(raw) if isinstance(raw, str) else (raw or text.encode("utf-8")))
    return out


def prompt_tokens_html(tokens: list[dict]) -> str:
    """tokens: [{id, piece, text, bytes}] from generation.tokenize."""
    spans = [
        f'<span class="tok" style="background:{_PALETTE[i % len(_PALETTE)]}" '
        f'title="id {t["id"]} · {html.escape(repr(t["piece"]))}">{_visible(t["text"]) or "∅"}'
        f'<sub class="tid">{t["id"]}</sub></span>'
        for i, t in enumerate(tokens)
    ]
    return f'<div class="llmlab-tokens" data-count="{len(tokens)}">{_grouped(spans, _chunks(tokens))}</div>'


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
    return f'<div class="llmlab-tokens llmlab-reply" data-count="{len(tokens)}">{_grouped(spans, _chunks(tokens))}</div>'


def alternatives_rows(tokens: list) -> list[list]:
    """One row per generated token: position, token, probability, then the top alternatives. A token
    that is part of a character names it: '<E6><A8>' → 模."""
    part_of = {k: chars for start, end, chars in group_bytes(_chunks(tokens)) for k in range(start, end)}
    rows = []
    for pos, t in enumerate(tokens):
        alts = ", ".join(f"{alt!r} {math.exp(lp):.0%}" for alt, _id, lp in t.top[:5])
        shown = repr(t.text) + (f" → {part_of[pos]}" if pos in part_of else "")
        rows.append([pos, shown, round(math.exp(t.logprob), 4), alts])
    return rows
