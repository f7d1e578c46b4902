"""bertviz's head view and model view as self-contained pages that load their JavaScript locally.

bertviz renders with require.js + d3 + jQuery fetched from cdnjs. `page()` asks bertviz for its
HTML, points those three URLs at the copies `apps.attention.assets` brought from npm (served under
`attention/vendor/`, relative to the lab's page), and wraps it in a full document, meant for an
iframe (`iframe()`), because a Gradio HTML block does not run <script> tags.

A page carries layers × heads × T² numbers and the model view draws T² lines per head, so layers
are paged: `layers_per_page` keeps one page under CELL_BUDGET numbers (a 30-layer model with 9
heads and 40 tokens shows 6 layers at a time).
"""
from __future__ import annotations

import html
import re

import numpy as np
import torch

from apps.attention.assets import URL_PREFIX
from apps.errors import LabError

BERTVIZ_MAX_TOKENS = 96  # the head view lists every token twice in one column; past this it is a wall
CELL_BUDGET = 100_000  # numbers (≈ SVG lines in the model view) on one page
VIEWS = ("head", "model")

_CDN = {  # bertviz 1.4.1's URLs → our local files
    "https://cdnjs.cloudflare.com/ajax/libs/require.js/2.3.6/require.min.js": f"{URL_PREFIX}/require.js",
    "https://cdnjs.cloudflare.com/ajax/libs/d3/5.7.0/d3.min": f"{URL_PREFIX}/d3.min",
    "https://cdnjs.cloudflare.com/ajax/libs/jquery/2.0.0/jquery.min": f"{URL_PREFIX}/jquery.min",
}
_REMOTE = re.compile(r"""["'](?:https?:)?//[^"']+["']""")  # a quoted remote URL left in the page


def layers_per_page(n_layers: int, n_heads: int, n_tokens: int, budget: int = CELL_BUDGET) -> int:
    return max(1, min(n_layers, budget // max(1, n_heads * n_tokens * n_tokens)))


def page_layers(n_layers: int, n_heads: int, n_tokens: int, first: int) -> list[int]:
    """The layers shown on the page that starts at layer `first` (clamped into range)."""
    size = layers_per_page(n_layers, n_heads, n_tokens)
    first = max(0, min(int(first), n_layers - size))
    return list(range(first, first + size))


def localize(markup: str) -> str:
    """Point bertviz's CDN URLs at the local copies; refuse if any remote URL is left."""
    for remote, local in _CDN.items():
        markup = markup.replace(remote, local)
    left = _REMOTE.findall(markup)
    if left:
        raise LabError("attention.bertviz_remote", urls=", ".join(sorted(set(left))[:3]))
    return markup


def page(attentions: np.ndarray, tokens: list[str], view: str = "head", first_layer: int = 0,
         missing_js_text: str = "JavaScript files are missing: run `make install`.") -> str:
    """A full HTML document with bertviz's `view` ("head" or "model") for one page of layers.

    attentions: (L, H, T, T) float; tokens: T labels. missing_js_text shows if require.js did not load."""
    if view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}")
    n_layers, n_heads, n_tokens = attentions.shape[:3]
    if n_tokens > BERTVIZ_MAX_TOKENS:
        raise LabError("attention.bertviz_too_long", n=n_tokens, max=BERTVIZ_MAX_TOKENS)
    from bertviz import head_view, model_view  # imports IPython: only when a page is asked for

    layers = page_layers(n_layers, n_heads, n_tokens, first_layer)
    # 3 decimals is plenty for line opacity and makes the embedded JSON ~4x smaller
    shown = {i: torch.from_numpy(np.round(attentions[i].astype(np.float64), 3)).unsqueeze(0) for i in layers}
    # bertviz wants one (1, H, T, T) per layer and picks include_layers out of it; layers off this
    # page are never read, so they share a stand-in rather than cost a copy
    per_layer = [shown.get(i, shown[layers[0]]) for i in range(n_layers)]
    if view == "head":
        body = head_view(attention=per_layer, tokens=list(tokens), include_layers=layers,
                         layer=layers[0], html_action="return").data
    else:
        body = model_view(attention=per_layer, tokens=list(tokens), include_layers=layers,
                          display_mode="light", html_action="return").data
    fallback = html.escape(missing_js_text)
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<style>body{margin:4px;background:#fff;color:#111;font-family:sans-serif}</style></head><body>"
        + localize(body)
        + "<script>if (typeof requirejs === 'undefined') {document.body.insertAdjacentHTML('afterbegin',"
        f" '<p class=\"llmlab-missing-js\" style=\"color:#b00\">{fallback}</p>');}}</script>"
        "</body></html>"
    )


def height(view: str, n_layers_shown: int, n_heads: int, n_tokens: int) -> int:
    """Pixels the iframe needs so the view shows without an inner scrollbar (bertviz's own geometry)."""
    if view == "head":
        return int(n_tokens * 22.5 + 130)  # + layer picker and head colour boxes
    thumb = n_tokens * 7 * (12 / max(1, n_heads)) + 10  # model view: thumbnailHeight per layer
    detail = n_tokens * 18 + 70
    return int(max(n_layers_shown * thumb + 40, detail) + 20)


def iframe(document: str, px: int, title: str = "bertviz") -> str:
    """Embed a page so its scripts run: srcdoc iframes execute scripts and resolve relative URLs
    against the lab's own address."""
    return (f'<iframe class="llmlab-bertviz" title="{html.escape(title)}" srcdoc="{html.escape(document, quote=True)}" '
            f'style="width:100%;height:{px}px;border:1px solid #ddd;border-radius:6px"></iframe>')
