"""What the token view shows besides the tokens themselves: long lists collapsed to their ends, the
steps where the chosen token is not the model's own favourite (and why), and the probability chart.

No gradio. `render` draws tokens; this decides how many and what to say about them.

    head, hidden, tail = collapse(tokens)              # first 300, a count, last 100
    note = reshaped_note(result.tokens, cfg, "en")     # '' when greedy really took the top token
"""
from __future__ import annotations

import math

from apps.i18n import t
from apps.models.generation import GenerationConfig

PROMPT_HEAD, PROMPT_TAIL = 300, 100  # a 3,770-token prompt would otherwise draw a 7,500-px page
REPLY_ENDS = (400, 100)  # (head, tail) of a reply: up to 1,024 tokens, each coloured


def collapse(items: list, head: int = PROMPT_HEAD, tail: int = PROMPT_TAIL) -> tuple[list, int, list]:
    """(first `head` items, how many are left out, last `tail` items); nothing left out when short."""
    if len(items) <= head + tail:
        return list(items), 0, []
    return list(items[:head]), len(items) - head - tail, list(items[-tail:])


def collapsed_html(items: list, draw, lang: str, head: int = PROMPT_HEAD, tail: int = PROMPT_TAIL) -> str:
    """draw(items) -> HTML for some tokens (apps.playground.render); a long list shows its two ends
    with a line saying how many tokens in between are not drawn."""
    first, hidden, last = collapse(items, head, tail)
    if not hidden:
        return draw(first)
    gap = f"<div class='llmlab-gap' data-hidden='{hidden}'>{t('playground.tokens_hidden', lang, n=hidden)}</div>"
    return draw(first) + gap + draw(last)


def reshaped(tokens: list) -> list[int]:
    """Positions where the chosen token is not the most likely one of the model's own distribution.
    tokens: TokenInfo list whose `top` holds (text, id, logprob) alternatives, best first."""
    return [pos for pos, tok in enumerate(tokens) if tok.top and tok.top[0][1] != tok.id]


def reshaped_note(tokens: list, cfg: GenerationConfig, lang: str) -> str:
    """A line for the learner whenever the chosen tokens are not simply the model's favourites:
    '' for greedy decoding that took the top token every time. The token view shows the model's
    raw probabilities; a repetition penalty, sampling or beam search picks from something else."""
    positions = reshaped(tokens)
    greedy = not cfg.do_sample and cfg.num_beams == 1
    if greedy and not positions:
        return ""
    if not positions:  # sampling or beams happened to agree with the top token everywhere
        return t("playground.note_agree", lang) if cfg.repetition_penalty != 1.0 else ""
    where = ", ".join(str(p) for p in positions[:8]) + (" …" if len(positions) > 8 else "")
    if cfg.repetition_penalty != 1.0:
        why = t("playground.why_penalty", lang, r=f"{cfg.repetition_penalty:g}")
    elif cfg.num_beams > 1:
        why = t("playground.why_beams", lang, k=cfg.num_beams)
    else:
        why = t("playground.why_sampling", lang)
    return t("playground.note_reshaped", lang, n=len(positions), total=len(tokens), where=where, why=why)


def prob_bars(tokens: list) -> tuple[list[str], list[float]]:
    """(bar labels '0 Paris', probabilities): one bar per reply token, in order, labelled by its
    position (as in the alternatives table and the note) and text: the axis covers the bars drawn."""
    labels = [f"{i} {tok.text.strip() or '∅'}"[:24] for i, tok in enumerate(tokens)]
    return labels, [round(math.exp(tok.logprob), 4) for tok in tokens]
