"""The one exception type users see, with its message in their language.

Logic raises `LabError("models.unknown", name=...)`; the key names a string in `apps.i18n`, so the
browser shows it in zh or en and the CLI prints it (in English unless LLMLAB_LANG=zh) with a
non-zero exit.
"""
from __future__ import annotations


class LabError(Exception):
    """A failure the user can act on. `key` is an i18n key, `params` fill its placeholders."""

    def __init__(self, key: str, **params):
        self.key = key
        self.params = params
        super().__init__(self.message("en"))

    def message(self, lang: str = "en") -> str:
        from apps.i18n import t

        return t(self.key, lang, **self.params)
