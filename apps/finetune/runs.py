"""Run folders: `$LLMLAB_RUNS/<id>/` (default ./runs) and what other tabs read from them.

    runs/<id>/run.yaml        the recipe (llmlab finetune --config run.yaml reproduces it)
              status.json     {"state": queued|running|finished|failed|stopped, "reason", "pid", ...}
              metrics.jsonl   progress records (apps.finetune.progress)
              log.txt         the training process's stdout/stderr
              command.txt     the exact command, plus accelerate.yaml / deepspeed.json for several GPUs
              checkpoints/    Trainer checkpoints (resume)
              adapter/        LoRA / QLoRA result in peft format; base_model_name_or_path = a local folder
              model/          full fine-tuning result (a plain transformers folder)
              merged/         base + adapter merged by `merge_and_export`

For the Playground and the Arena: `list_adapters()` → finished adapter runs, each loadable as
`default_cache().get(row["base_model"], adapter=row["adapter_path"])`; `list_tuned_models()` →
folders (full runs, merged exports) loadable as a model name.

Ownership: every run's status.json names its `owner` (an apps.auth user id). The functions that
read or change a run take `user=`: given, a run that user may not reach (apps.auth.may_access: the
owner or their teacher) is answered exactly like a run that does not exist. `user=None` is the
trusted local caller (the CLI on the machine, tests).
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
import time
import traceback
from pathlib import Path

from apps.errors import LabError
from apps.finetune import progress
from apps.finetune.config import RunConfig, load_yaml, write_atomic

ACTIVE = ("queued", "running")


def runs_root() -> Path:
    root = Path(os.environ.get("LLMLAB_RUNS", "runs")).expanduser().resolve()
    root.mkdir(parents=True, exist_ok=True)
    return root


def new_run_id(cfg: RunConfig) -> str:
    model = Path(cfg.model).name.split("/")[-1].lower()[:24]
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{cfg.objective}-{cfg.method}-{model}-{secrets.token_hex(2)}"


def run_dir(run_id: str, root: Path | None = None) -> Path:
    if not run_id or "/" in run_id or run_id.startswith("."):
        raise LabError("finetune.no_run", run_id=run_id)
    return (root or runs_root()) / run_id


def read_status(folder: str | Path) -> dict:
    path = Path(folder) / "status.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def write_status(folder: str | Path, **fields) -> dict:
    """Merge fields into status.json atomically (temp + rename), stamping `updated`."""
    status = read_status(folder)
    status.update(fields, updated=time.time())
    write_atomic(Path(folder) / "status.json", json.dumps(status, ensure_ascii=False, indent=1))
    return status


def process_id(pid: int | None = None) -> dict:
    """{"pid", "pid_started"} of a process (default: this one): a pid plus its start time names one
    process for good, even after the pid is reused."""
    import psutil

    pid = pid or os.getpid()
    try:
        return {"pid": pid, "pid_started": psutil.Process(pid).create_time()}
    except psutil.Error:
        return {"pid": pid, "pid_started": None}


def alive(status: dict) -> bool:
    """Is the process that status.json names (pid + start time) still there? A zombie counts as there:
    its parent (the runner) is about to reap it and record how it ended."""
    import psutil

    pid, started = status.get("pid"), status.get("pid_started")
    if not pid:
        return False
    try:
        proc = psutil.Process(pid)
        if started is not None:
            return abs(proc.create_time() - started) < 1.0
        return "finetune" in " ".join(proc.cmdline()) or "pretrain" in " ".join(proc.cmdline())  # older status files
    except psutil.Error:  # gone, or not ours to inspect
        return False


def settle(folder: Path, status: dict) -> dict:
    """A run still marked running whose process is gone (SIGKILL, OOM killer, power cut) is failed,
    with the reason in both languages; anything else is returned as it is."""
    if status.get("state") != "running" or alive(status):
        return status
    from apps.i18n import t

    how = f"pid {status.get('pid') or '?'} gone"
    return write_status(folder, state="failed", pid=None, ended=time.time(), reason=t("finetune.killed", "en", how=how),
                        reason_zh=t("finetune.killed", "zh", how=how))


def write_launch_files(folder: Path, cfg: RunConfig) -> None:
    """command.txt, accelerate.yaml and deepspeed.json: how to rerun here or on several GPUs."""
    cmd = "llmlab finetune --config run.yaml"
    multi = "accelerate launch --config_file accelerate.yaml -m apps.finetune.train --config run.yaml"
    write_atomic(folder / "command.txt", f"# this machine\n{cmd}\n# several GPUs (edit num_processes)\n{multi}\n")
    accelerate = (
        "# accelerate launch --config_file accelerate.yaml -m apps.finetune.train --config run.yaml\n"
        "compute_environment: LOCAL_MACHINE\ndistributed_type: DEEPSPEED\nnum_machines: 1\nnum_processes: 2\n"
        "machine_rank: 0\nmain_training_function: main\nmixed_precision: bf16\nuse_cpu: false\n"
        "deepspeed_config:\n  deepspeed_config_file: deepspeed.json\n  zero3_init_flag: false\n"
    )
    write_atomic(folder / "accelerate.yaml", accelerate)
    # ZeRO-2: optimizer state and gradients sharded across GPUs; "auto" values come from the Trainer.
    deepspeed = {
        "zero_optimization": {"stage": 2, "overlap_comm": True, "contiguous_gradients": True},
        "bf16": {"enabled": "auto"}, "gradient_accumulation_steps": "auto",
        "train_micro_batch_size_per_gpu": "auto", "train_batch_size": "auto", "gradient_clipping": "auto",
    }
    write_atomic(folder / "deepspeed.json", json.dumps(deepspeed, indent=2))


def latest_checkpoint(folder: str | Path) -> str | None:
    """Newest complete checkpoint (the Trainer writes trainer_state.json last; a run stopped while
    saving leaves a folder without it)."""
    ckpts = sorted((p for p in Path(folder, "checkpoints").glob("checkpoint-*") if (p / "trainer_state.json").exists()),
                   key=lambda p: int(p.name.split("-")[-1]))
    return str(ckpts[-1]) if ckpts else None


def _info(folder: Path) -> dict | None:
    status = read_status(folder)
    if not status:
        return None
    status = settle(folder, status)
    try:
        cfg = load_yaml(folder / "run.yaml")
    except LabError:
        return None
    adapter, model = folder / "adapter", folder / "model"
    return {
        "run_id": folder.name, "folder": str(folder), "state": status.get("state", "?"),
        "reason": status.get("reason", ""), "created": status.get("created", 0), "owner": status.get("owner", ""),
        "model": cfg.model, "method": cfg.method, "objective": cfg.objective, "data": cfg.data,
        "label": cfg.label or folder.name, "max_steps": cfg.max_steps, "config": cfg,
        "base_path": status.get("base_path", ""),
        "adapter_path": str(adapter) if (adapter / "adapter_config.json").exists() else None,
        "model_path": str(model) if (model / "config.json").exists() else None,
        "merged_path": str(folder / "merged") if (folder / "merged" / "config.json").exists() else None,
        "final": status.get("final", {}),
    }


def _reachable(info: dict, user) -> bool:
    if user is None:
        return True
    from apps.auth.users import may_access

    return may_access(user, info["owner"])


def scan(root: Path | None = None) -> list[tuple[Path, dict]]:
    """(folder, status) of every run folder under root, newest first, whatever stage made it."""
    root = root or runs_root()
    found = [(p, read_status(p)) for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return sorted(((p, s) for p, s in found if s), key=lambda ps: ps[1].get("created", 0), reverse=True)


def list_runs(root: Path | None = None, user=None) -> list[dict]:
    """Every run `user` may reach (all with user=None), newest first (dicts as in `get_run`)."""
    root = root or runs_root()
    infos = [_info(p) for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name != "datasets"]
    return sorted((i for i in infos if i and _reachable(i, user)), key=lambda i: i["created"], reverse=True)


def get_run(run_id: str, root: Path | None = None, user=None) -> dict:
    info = _info(run_dir(run_id, root))
    if info is None or not _reachable(info, user):
        raise LabError("finetune.no_run", run_id=run_id)
    return info


def metrics(run_id: str, root: Path | None = None, user=None) -> dict:
    """progress.summary of the run's metrics.jsonl."""
    if user is not None:
        get_run(run_id, root, user)
    return progress.summary(progress.read(run_dir(run_id, root) / "metrics.jsonl"))


def log_tail(run_id: str, root: Path | None = None, chars: int = 4000, user=None) -> str:
    if user is not None:
        get_run(run_id, root, user)
    path = run_dir(run_id, root) / "log.txt"
    if not path.exists():
        return ""
    with open(path, "rb") as handle:
        handle.seek(max(0, path.stat().st_size - chars))
        return handle.read().decode("utf-8", "replace")


def list_adapters(root: Path | None = None, user=None) -> list[dict]:
    """Finished LoRA/QLoRA runs for the Playground and the Arena, newest first:
    [{"run_id", "label", "base_model", "adapter_path"}] where `base_model` is the name the user picked
    (so `default_cache().get(base_model, adapter=adapter_path)` shares the cached tokenizer logic)."""
    return [{"run_id": r["run_id"], "label": r["label"], "base_model": r["model"], "adapter_path": r["adapter_path"]}
            for r in list_runs(root, user) if r["state"] == "finished" and r["adapter_path"]]


def list_tuned_models(root: Path | None = None, user=None) -> list[dict]:
    """Finished full fine-tunes and merged exports: [{"run_id", "label", "model_path"}]; `model_path`
    is a folder that `default_cache().get(model_path)` and plain `from_pretrained` load."""
    out = []
    for r in list_runs(root, user):
        for path, suffix in ((r["model_path"], ""), (r["merged_path"], " (merged)")):
            if r["state"] == "finished" and path:
                out.append({"run_id": r["run_id"], "label": r["label"] + suffix, "model_path": path})
    return out


def merge_and_export(run_id: str, out_dir: str | None = None, root: Path | None = None, user=None) -> str:
    """Fold the adapter into the base weights (W + B·A·alpha/r) and save a plain model folder.
    Written to a temp folder then renamed, so a half-written export never looks complete.
    A web user (user=...) always writes into the run's own folder, never to a path they name."""
    info = get_run(run_id, root, user)
    if user is not None:
        out_dir = None
    if not info["adapter_path"]:
        raise LabError("finetune.no_adapter", run_id=run_id)
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    adapter = info["adapter_path"]
    base_path = json.loads(Path(adapter, "adapter_config.json").read_text())["base_model_name_or_path"]
    target = Path(out_dir) if out_dir else Path(info["folder"]) / "merged"
    target.parent.mkdir(parents=True, exist_ok=True)
    # Merge in fp32 even for a QLoRA run: a merged 4-bit model would lose the adapter's precision.
    base = AutoModelForCausalLM.from_pretrained(base_path, dtype=torch.float32)
    merged = PeftModel.from_pretrained(base, adapter).merge_and_unload()
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-"))
    try:
        merged.save_pretrained(tmp, safe_serialization=True)
        AutoTokenizer.from_pretrained(adapter).save_pretrained(tmp)
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return str(target)


def record_end(folder: Path, exc: BaseException) -> dict:
    """Call inside the `except` of a training process: a stop (SIGTERM → KeyboardInterrupt) ends the
    run as stopped and resumable; any other exception as failed, with a reason in both languages."""
    from apps.errors import LabError
    from apps.i18n import t

    if isinstance(exc, KeyboardInterrupt):
        return write_status(folder, state="stopped", ended=time.time(), pid=None,
                            reason=t("finetune.stopped_reason", "en"), reason_zh=t("finetune.stopped_reason", "zh"))
    traceback.print_exc()
    if isinstance(exc, LabError):
        en, zh = exc.message("en"), exc.message("zh")
    else:
        en = zh = f"{type(exc).__name__}: {str(exc).splitlines()[0][:400] if str(exc) else ''}"
    return write_status(folder, state="failed", ended=time.time(), reason=en, reason_zh=zh, pid=None)
