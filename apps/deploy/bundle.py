"""The Deploy tab's "export your app": what a signed-in user may export, and the zip they download.

    choices = model_choices(user, runs_root)     # [(value, kind, label, base)]: registry models, their own runs
    has_index(user, indexes_root)                 # their saved RAG index (apps.retrieval.library)
    done = export_zip(user, ExportRequest(model="tuned:RUN_ID", use_index=True, system="Be brief."),
                      workdir=tmp, runs_root=runs, indexes_root=indexes)
    done["zip"]                                   # <workdir>/<user.folder>/<random>/<title-slug>.zip

Every value reaches this module from an HTTP request anyone can forge, so nothing here takes a path.
The model is a registry name from the offered list or "tuned:<run id>", a run checked against its
owner (apps.arena.contestants.resolve_tuned: another student's run is answered like a missing one);
the index is a yes/no for the user's own (Library.folder(user), from the signed-in id). Each export
is built in a fresh folder of its own and zipped; the user's earlier zips are removed (one kept each,
so 30 students hold at most 30 on disk).
"""
from __future__ import annotations

import re
import secrets
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from apps.deploy.export import LFS_PATTERNS, ExportConfig, export
from apps.errors import LabError

TUNED = "tuned:"
MAX_SYSTEM_CHARS = 4000
MAX_TITLE_CHARS = 80
REGISTRY, GGUF, RUN = "registry", "gguf", "run"


@dataclass
class ExportRequest:
    model: str
    use_index: bool = False
    system: str = ""
    title: str = "My first AI app"
    max_tokens: int = 256
    temperature: float = 0.0


def registry_choices() -> list[tuple[str, str, str, str]]:
    """(value, kind, label, base) of the registry's offline generative models, and of each one that
    ships as a GGUF once more as "name@llama.cpp" (the app then carries the small quantised file)."""
    from apps.models import llamacpp, registry

    out = []
    for spec in registry.list_models(offline_only=True):
        if spec.kind == registry.EMBEDDING:
            continue
        out.append((spec.name, REGISTRY, spec.name, spec.name))
        if spec.source == "gguf":
            out.append((spec.name + llamacpp.SUFFIX, GGUF, spec.name, spec.name))
    return out


def model_choices(user, runs_root: Path | None = None) -> list[tuple[str, str, str, str]]:
    """registry_choices() and the finished fine-tuning runs `user` may reach, newest first."""
    from apps.arena.contestants import tuned_choices

    runs = [(spec, RUN, label, base) for label, base, spec in tuned_choices(user, runs_root)]
    return registry_choices() + runs


def has_index(user, indexes_root: Path | None = None) -> bool:
    return (_index_folder(user, indexes_root) / "meta.json").is_file()


def _index_folder(user, indexes_root: Path | None) -> Path:
    from apps.retrieval.library import Library

    return Library(indexes_root).folder(user)


def _model_ref(user, value: str, runs_root: Path | None) -> tuple[str, bool]:
    """(export's model reference, vetted) for the value a request sent; anything not offered refused."""
    from apps.arena.contestants import ADAPTER, resolve_tuned
    from apps.models import registry

    value = (value or "").strip()
    if value.startswith(TUNED):
        made = resolve_tuned(value, user, runs_root)  # finetune.no_run unless the run is theirs
        return (registry.model_ref(made.model, made.adapter) if made.kind == ADAPTER else made.model), True
    if value in {v for v, *_ in registry_choices()}:
        return value, False
    raise LabError("deploy.not_offered", name=value[:200])


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40] or "my-ai-app"


def _zip(folder: Path, target: Path, top: str) -> None:
    """The folder under one top-level name; weights stored as they are (compressing them saves little
    and costs seconds per hundred MB), text deflated."""
    big = tuple(p.lstrip("*") for p in LFS_PATTERNS)
    with zipfile.ZipFile(target, "w") as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                kind = zipfile.ZIP_STORED if path.name.endswith(big) else zipfile.ZIP_DEFLATED
                zf.write(path, f"{top}/{path.relative_to(folder)}", compress_type=kind)


def export_zip(user, req: ExportRequest, workdir: Path | None = None, runs_root: Path | None = None,
               indexes_root: Path | None = None) -> dict:
    """Export `req` for `user` into a fresh folder under `workdir` and zip it. Returns export()'s
    report plus "zip" (the file to hand out) and "zip_mb". Cheap checks first; LabErrors for bad input."""
    system, title = req.system or "", (req.title or "").strip() or "My first AI app"
    if len(system) > MAX_SYSTEM_CHARS:
        raise LabError("deploy.system_too_long", n=len(system), max=MAX_SYSTEM_CHARS)
    if len(title) > MAX_TITLE_CHARS:
        raise LabError("deploy.title_too_long", n=len(title), max=MAX_TITLE_CHARS)
    try:
        max_tokens, temperature = int(req.max_tokens), float(req.temperature)
    except (TypeError, ValueError):
        raise LabError("gen.bad_param", name="max_tokens, temperature", why="numbers") from None
    cfg = ExportConfig(model="", output="", system=system, title=title, max_tokens=max_tokens,
                       temperature=temperature).validate()
    cfg.model, vetted = _model_ref(user, req.model, runs_root)
    if req.use_index:
        folder = _index_folder(user, indexes_root)  # the signed-in user's own, whatever the request said
        if not (folder / "meta.json").is_file():
            raise LabError("deploy.no_index")
        cfg.index = str(folder)
    mine = Path(workdir or Path(tempfile.gettempdir()) / "llmlab-deploy") / user.folder
    here = mine / secrets.token_hex(8)  # unguessable: the zip's download URL names this folder
    here.mkdir(parents=True)
    try:
        cfg.output = str(here / "app")
        report = export(cfg, vetted=vetted)
        target = here / f"{_slug(title)}.zip"
        _zip(here / "app", target, _slug(title))
    except BaseException:
        shutil.rmtree(here, ignore_errors=True)
        raise
    shutil.rmtree(here / "app", ignore_errors=True)
    for old in mine.iterdir():  # the user's earlier exports: one zip kept per user
        if old != here:
            shutil.rmtree(old, ignore_errors=True)
    return {**report, "zip": str(target), "zip_mb": round(target.stat().st_size / (1 << 20), 1)}
