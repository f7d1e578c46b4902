"""Pretraining runs for many users: submit, stop, resume, watch — through the fine-tuning runner.

    runner = make_runner()                                 # one per app: a queue of training processes
    run_id = submit(runner, PretrainConfig(corpus=["seeds-zh"]), owner="alice")
    status(run_id, owner="alice"); stop(runner, run_id, owner="alice"); resume(runner, run_id, owner="alice")

Runs live in `$LLMLAB_RUNS/pretrain/<id>/` (the run folder is also the model folder). Every run has
an owner; each function here takes the caller's identity and refuses another owner's run (the view
passes the signed-in user, never a name typed into a form). Finished runs of every user are models
of the lab: `list_models()` offers them to the Playground and the Arena like fine-tuned ones.
"""
from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from apps.errors import LabError
from apps.finetune import progress, runs
from apps.finetune.runner import Runner
from apps.pretrain import config as config_mod
from apps.pretrain.config import PretrainConfig

MODULE = "apps.pretrain.train"


def root() -> Path:
    path = runs.runs_root() / "pretrain"
    path.mkdir(parents=True, exist_ok=True)
    return path


def make_runner(path: Path | None = None) -> Runner:
    return Runner(path or root(), module=MODULE)


def new_run_id(cfg: PretrainConfig) -> str:
    import secrets

    return f"{time.strftime('%Y%m%d-%H%M%S')}-pretrain-{cfg.preset}-{secrets.token_hex(2)}"


def submit(runner: Runner, cfg: PretrainConfig, owner: str) -> str:
    """Check the settings and the data here (seconds: clean, dedup, tokenizer, context), so a bad
    corpus is refused with its message before anything is queued; then queue the run."""
    from apps.models.loading import pick_device
    from apps.pretrain import train

    cfg = config_mod.resolve(replace(cfg, output="", resume=False), pick_device(cfg.device))
    train.build_data(cfg)  # raises LabError: empty/binary corpus, vocab too large, context too long
    cfg = replace(cfg, output=str(runner.root / new_run_id(cfg)))
    _, folder = train.prepare(cfg, owner=_owner_id(owner), state="queued")
    return runner.enqueue(folder.name)


def keep_upload(path: str) -> str:
    """Copy an uploaded corpus file (a server temp file that may vanish before the run starts) to
    uploads/<sha256>/<name>: named by content, so two users' same-named files never overwrite each
    other (a queued run must train on the text its owner gave)."""
    import hashlib
    import shutil

    src = Path(path)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()[:24]
    target = root() / "uploads" / digest / src.name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        shutil.copyfile(src, tmp)
        tmp.replace(target)
    return str(target)


def _owner_id(owner) -> str:
    """`owner`: a user id, or the signed-in apps.auth User (whose id owns what they start)."""
    return owner if isinstance(owner, str) else owner.id


def _may(owner, run_owner: str) -> bool:
    """A user id reaches only its own runs; a signed-in User also their class's, if a teacher."""
    if isinstance(owner, str):
        return run_owner == owner
    from apps.auth.users import may_access

    return may_access(owner, run_owner)


def _owned(run_id: str, owner, path: Path | None = None) -> Path:
    folder = runs.run_dir(run_id, path or root())
    status = runs.read_status(folder)
    if status.get("kind") != "pretrain":
        raise LabError("finetune.no_run", run_id=run_id)
    if not _may(owner, status.get("owner", "")):
        raise LabError("pretrain.not_yours", run_id=run_id)
    return folder


def stop(runner: Runner, run_id: str, owner: str) -> str:
    _owned(run_id, owner, runner.root)
    return runner.stop(run_id)


def resume(runner: Runner, run_id: str, owner: str) -> str:
    _owned(run_id, owner, runner.root)
    return runner.resume(run_id, owner=_owner_id(owner))


def status(run_id: str, owner: str, path: Path | None = None) -> dict:
    """{"run_id", "state", "reason", "reason_zh", "label", "final", "folder", "metrics": progress.summary,
    "samples": [{"step", "prompt", "text"}], "curves": {"loss", "eval_loss", "tokens_per_s", ...}}."""
    folder = _owned(run_id, owner, path)
    info = runs.read_status(folder)
    records = progress.read(folder / "metrics.jsonl")
    summary = progress.summary(records)
    logs = [r for r in records if r.get("type") == "log"]
    curves = {k: [(r["step"], r[k]) for r in logs if r.get(k) is not None]
              for k in ("loss", "eval_loss", "ppl", "val_ppl", "learning_rate", "tokens_per_s", "grad_norm")}
    start = next((r for r in records if r.get("type") == "start"), {})
    return {
        "run_id": run_id, "folder": str(folder), "state": info.get("state", "?"), "label": info.get("label", run_id),
        "reason": info.get("reason", ""), "reason_zh": info.get("reason_zh", ""), "final": info.get("final", {}),
        "params": start.get("params"), "data": start.get("data", {}), "metrics": summary, "curves": curves,
        "samples": [{k: r.get(k) for k in ("step", "prompt", "text")} for r in records if r.get("type") == "sample"],
        "tokens_seen": next((r["tokens_seen"] for r in reversed(logs) if r.get("tokens_seen")), 0),
        "model_path": str(folder) if (folder / "config.json").exists() and info.get("state") == "finished" else None,
    }


def list_runs(owner: str, path: Path | None = None) -> list[dict]:
    """The owner's runs, newest first: [{"run_id", "state", "label", "preset", "final"}]."""
    rows = []
    for folder, info in runs.scan(path or root()):
        if info.get("kind") == "pretrain" and _may(owner, info.get("owner", "")):
            rows.append({"run_id": folder.name, "state": info.get("state", "?"), "label": info.get("label", folder.name),
                         "preset": info.get("preset", ""), "final": info.get("final", {})})
    return rows


def list_models(path: Path | None = None, owner=None) -> list[dict]:
    """Finished pretraining runs (of `owner` when given, as in list_runs), as models: [{"run_id",
    "label", "model_path"}], the shape of apps.finetune.runs.list_tuned_models."""
    try:
        found = runs.scan(path or root())
    except OSError:
        return []
    return [{"run_id": f.name, "label": i.get("label", f.name), "model_path": str(f)}
            for f, i in found if i.get("kind") == "pretrain" and i.get("state") == "finished"
            and (f / "config.json").exists() and (owner is None or _may(owner, i.get("owner", "")))]
