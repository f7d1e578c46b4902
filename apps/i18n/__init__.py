"""UI strings in zh and en, one table per tab, keyed "tab.elem".

Each module in this package defines `STRINGS = {"tab.elem": ("中文", "English"), ...}`; they are
merged here at first use. `t("playground.send", "zh")` returns the text, formatted with keyword
arguments (`t("models.unknown", "en", name="x")`). A key with no entry comes back as itself, so a
missing string is visible rather than fatal; `tests/unit/test_i18n.py` checks that none is missing.
"""
from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"


@lru_cache(maxsize=1)
def table() -> dict[str, tuple[str, str]]:
    merged: dict[str, tuple[str, str]] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for key, pair in getattr(module, "STRINGS", {}).items():
            if key in merged:
                raise ValueError(f"i18n key {key!r} defined twice (second time in {info.name})")
            merged[key] = pair
    return merged


def norm_lang(lang: str | None) -> str:
    """Map 'zh-CN', 'zh_TW', 'en-US', None … onto one of LANGS."""
    if not lang:
        return DEFAULT_LANG
    lang = lang.lower()
    return "zh" if lang.startswith("zh") else "en"


def t(key: str, lang: str | None = DEFAULT_LANG, **params) -> str:
    pair = table().get(key)
    if pair is None:
        return key
    text = pair[0] if norm_lang(lang) == "zh" else pair[1]
    return text.format(**params) if params else text


def both(key: str, **params) -> str:
    """'中文 / English' for places that cannot switch language (CLI help, page title)."""
    return f"{t(key, 'zh', **params)} / {t(key, 'en', **params)}"


def lang_from_accept(header: str | None) -> str:
    """Pick zh or en from an Accept-Language header; first listed wins."""
    if not header:
        return DEFAULT_LANG
    first = header.split(",")[0].strip()
    return norm_lang(first)
