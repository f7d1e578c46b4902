"""Which models a model box may load on a shared server.

Personal mode: anything (a registry name, a local folder, a hub id when online). Classroom and
Spaces modes: the registry names (and their upstream ids), the allowlist (`policy.model_allowlist`:
hub ids or folders the teacher allowed), and folders the lab itself made under the fine-tuning runs
root (merged models, adapters; who may use whose run is the ownership layer's check). Anything else
(a typed hub id, a typed folder path) is refused before any file is read or any download starts.
`apps.models.registry.resolve` and `ModelCache.get` call these checks.
"""
from __future__ import annotations

import os
from pathlib import Path

from apps.errors import LabError
from apps.security import policy


def _runs_root() -> Path:
    # apps.finetune.runs.runs_root(), read here directly: importing that module pulls in transformers
    # and peft (seconds), far too much for a check that runs on every model name.
    return Path(os.environ.get("LLMLAB_RUNS", "runs")).expanduser().resolve()


def _lab_made(path: str) -> bool:
    root = Path(os.path.realpath(_runs_root()))
    real = Path(os.path.realpath(os.path.expanduser(path)))
    return root in real.parents


def _allowlisted(name: str, allow: tuple[str, ...]) -> bool:
    lowered = name.lower()
    if any(lowered == a.lower() for a in allow):
        return True
    real = os.path.realpath(os.path.expanduser(name))
    return any(os.path.isabs(os.path.expanduser(a)) and real == os.path.realpath(os.path.expanduser(a))
               for a in allow)


def check_name(name: str) -> None:
    """`name` is not a registry name: raise LabError unless the active policy allows loading it."""
    active = policy.current()
    if not active.restricted or _allowlisted(name, active.model_allowlist) or (name and _lab_made(name)):
        return
    from apps.models.registry import REGISTRY

    raise LabError("security.model_refused", name=name[:200], choices=", ".join(REGISTRY))


def check_adapter(path: str) -> None:
    """A peft adapter folder: only the lab's own runs (or the allowlist) on a shared server."""
    active = policy.current()
    if not active.restricted or _allowlisted(path, active.model_allowlist) or _lab_made(path):
        return
    raise LabError("security.adapter_refused", path=path[:200])
