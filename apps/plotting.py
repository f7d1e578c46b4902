"""Matplotlib set-up shared by every tab's figures: a headless backend and a font that draws Chinese.

    from apps.plotting import plt, style, caption_lang
    with style():
        fig, ax = plt.subplots()

Matplotlib's default font has no Chinese glyphs, so zh captions come out as boxes unless a CJK font
is named. `cjk_font()` finds one among the usual names (Linux, macOS, Windows), registering system
font files that matplotlib's font cache predates; without one, `caption_lang` falls back to English.
"""
from __future__ import annotations

import re
from functools import lru_cache

import matplotlib

matplotlib.use("Agg")  # no display on a server: figures are rendered for the browser
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402

__all__ = ["plt", "cjk_font", "caption_lang", "style"]

CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
             "WenQuanYi Zen Hei", "Microsoft YaHei", "PingFang SC", "Heiti SC", "SimHei", "AR PL UMing CN")
_CJK_FILE = re.compile(r"cjk|wqy|simhei|msyh|pingfang|sourcehan|notosanssc|uming", re.I)


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The name of an installed font that can draw Chinese, or None."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    if not any(name in installed for name in CJK_FONTS):
        # A font installed after matplotlib built its cache is invisible until registered.
        for path in font_manager.findSystemFonts():
            if _CJK_FILE.search(path):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def caption_lang(lang: str) -> str:
    """The language figure captions should use: Chinese only when a font can draw it."""
    return lang if lang != "zh" or cjk_font() else "en"


def style(**extra):
    """rc_context with the CJK font first, e.g. `with style(**{"font.size": 9}):`."""
    font = cjk_font()
    return plt.rc_context({"font.family": "sans-serif",
                           "font.sans-serif": ([font] if font else []) + ["DejaVu Sans"],
                           "axes.unicode_minus": False, **extra})
