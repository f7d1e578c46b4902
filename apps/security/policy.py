"""The active security policy: the serving mode, the allowlists and the size limits.

Mode (env `LLMLAB_MODE`): `personal` (the default: one learner on their own machine, nothing
restricted), `classroom` (one server shared by a class) or `spaces` (a public Hugging Face Space;
the default when `SPACE_ID` is set). Allowlists are comma-separated env vars for now:

    LLMLAB_MODEL_ALLOWLIST=Qwen/Qwen3-0.6B,/srv/models/tiny      # beyond the registry names
    LLMLAB_URL_ALLOWLIST=http://10.0.0.5:8000/v1,ollama.lan        # beyond the provider presets
    LLMLAB_MAX_BODY_MB=4  LLMLAB_MAX_UPLOAD_MB=32                  # request body / one upload

`current()` is the one accessor every check calls. Class settings managed by a teacher replace the
env source with `use(source)`, where `source()` returns a Policy; nothing else needs to change.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable

PERSONAL, CLASSROOM, SPACES = "personal", "classroom", "spaces"
MODES = (PERSONAL, CLASSROOM, SPACES)

DEFAULT_MAX_BODY_MB = 4.0  # a chat turn, a pasted document, a RAG question: far below this
DEFAULT_MAX_UPLOAD_MB = 32.0  # a fine-tuning dataset or a few RAG documents


@dataclass(frozen=True)
class Policy:
    mode: str = PERSONAL
    model_allowlist: tuple[str, ...] = field(default=())  # names/ids/folders beyond the registry
    url_allowlist: tuple[str, ...] = field(default=())  # base URLs or host[:port]s beyond the presets
    max_body_bytes: int = int(DEFAULT_MAX_BODY_MB * (1 << 20))
    max_upload_bytes: int = int(DEFAULT_MAX_UPLOAD_MB * (1 << 20))

    @property
    def restricted(self) -> bool:
        """Classroom and Spaces: model boxes and base URLs are limited to presets + allowlists."""
        return self.mode != PERSONAL


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (value or "").split(",") if item.strip())


def _megabytes(var: str, default: float) -> int:
    try:
        value = float(os.environ.get(var) or default)
    except ValueError:
        value = default
    return int(max(value, 0.001) * (1 << 20))


def mode_from_env() -> str:
    mode = (os.environ.get("LLMLAB_MODE") or "").strip().lower()
    if mode in MODES:
        return mode
    if mode:  # a typo must not silently open the server: fall back to the strictest shared mode
        return CLASSROOM
    return SPACES if os.environ.get("SPACE_ID") else PERSONAL


def from_env() -> Policy:
    return Policy(
        mode=mode_from_env(),
        model_allowlist=_split(os.environ.get("LLMLAB_MODEL_ALLOWLIST")),
        url_allowlist=_split(os.environ.get("LLMLAB_URL_ALLOWLIST")),
        max_body_bytes=_megabytes("LLMLAB_MAX_BODY_MB", DEFAULT_MAX_BODY_MB),
        max_upload_bytes=_megabytes("LLMLAB_MAX_UPLOAD_MB", DEFAULT_MAX_UPLOAD_MB),
    )


_source: Callable[[], Policy] = from_env


def current() -> Policy:
    """The policy in force now (read on every call, so a changed class setting applies at once)."""
    return _source()


def use(source: Callable[[], Policy] | None) -> None:
    """Replace where the policy comes from (e.g. the class settings); None restores the env."""
    global _source
    _source = source or from_env
