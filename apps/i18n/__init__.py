"""UI strings in zh and en, one table per tab, keyed "tab.elem".

Each module in this package defines `STRINGS = {"tab.elem": ("中文", "English"), ...}`; they are
merged here at first use. `t("playground.send", "zh")` returns the text, formatted with keyword
arguments (`t("models.unknown", "en", name="x")`). A key with no entry comes back as itself, so a
missing string is visible rather than fatal; `tests/unit/test_i18n.py` checks that none is missing.

Plurals: a string may pick a word by a count with the `plural` format spec, e.g.
`"{n} {n:plural:student|students}"` (English needs it; Chinese has no plural and writes `"{n} 位同学"`).

Results that must follow a language switch are kept language-neutral: `msg("rag.status.built", n=3)`
is a plain dict (fit for a gr.State) that `render(m, lang)` turns into text in either language; its
params may be msgs themselves. apps/ui.py re-renders them when the language changes (ShellContext.rerender).
"""
from __future__ import annotations

import importlib
import pkgutil
import string
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


class _Formatter(string.Formatter):
    """str.format plus `{n:plural:one|other}`: "one" when n == 1, else "other"."""

    def format_field(self, value, format_spec):
        if format_spec.startswith("plural:"):
            one, _, other = format_spec[len("plural:"):].partition("|")
            return one if value == 1 else (other or one)
        return super().format_field(value, format_spec)


_FORMAT = _Formatter()


def t(key: str, lang: str | None = DEFAULT_LANG, **params) -> str:
    pair = table().get(key)
    if pair is None:
        return key
    text = pair[0] if norm_lang(lang) == "zh" else pair[1]
    return _FORMAT.format(text, **params) if params else text


def plural(n: int, one: str, other: str) -> str:
    """'1 file' / '3 files' for code that builds a count outside the string tables."""
    return f"{n} {one if n == 1 else other}"


def msg(key: str, **params) -> dict:
    """A message to show, kept language-neutral (a plain dict for gr.State): render(m, lang) says it."""
    return {"key": key, "params": params}


def render(m, lang: str | None = DEFAULT_LANG) -> str:
    """The text of a msg() in `lang`; None → "", a plain str stays as it is, a list joins with spaces
    (put "\\n\\n" items in it for paragraphs). Params that are msgs (or lists of them) are rendered
    first, so messages nest."""
    if m is None:
        return ""
    if isinstance(m, str):
        return m
    if isinstance(m, (list, tuple)):
        return " ".join(render(x, lang) for x in m)
    params = {k: render(v, lang) if isinstance(v, (dict, list, tuple)) and _is_msg(v) else v
              for k, v in m.get("params", {}).items()}
    return t(m["key"], lang, **params)


def _is_msg(v) -> bool:
    if isinstance(v, dict):
        return "key" in v and "params" in v
    # a list is a message when it holds msgs (and plain strs between them), not any list of values
    return any(isinstance(x, dict) for x in v) and all(isinstance(x, str) or _is_msg(x) for x in v)


def both(key: str, **params) -> str:
    """'中文 / English' for places that cannot switch language (CLI help, page title)."""
    return f"{t(key, 'zh', **params)} / {t(key, 'en', **params)}"


def lang_from_accept(header: str | None) -> str:
    """Pick zh or en from an Accept-Language header; first listed wins."""
    if not header:
        return DEFAULT_LANG
    first = header.split(",")[0].strip()
    return norm_lang(first)
