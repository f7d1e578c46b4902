"""Live progress: a TrainerCallback appends one JSON line per log to `metrics.jsonl`; readers summarise.

Each line is one `write()` of a complete record, so a reader polling the file mid-run sees whole
lines (a torn last line is skipped). Records:
  {"type": "start", "time", "total_steps", "device"}
  {"type": "log",   "time", "step", "total_steps", "elapsed_s", "eta_s", "samples_per_s",
                    "mem_mb", "peak_mem_mb", "loss"?, "learning_rate"?, "grad_norm"?, "eval_loss"?, ...}
  {"type": "end",   "time", "step", "train_loss", "train_runtime", "train_samples_per_second", ...}
  {"type": "samples", "step", "samples": [{"prompt", "reply", "reward"}]}   (GRPO; logs add reward, kl)
"""
from __future__ import annotations

import json
import resource
import time
from pathlib import Path

from transformers import TrainerCallback


def memory_mb(device: str) -> tuple[float, float]:
    """(current, peak) memory of this process in MB: CUDA allocator on GPU, resident set on CPU."""
    if device.startswith("cuda"):
        import torch

        return torch.cuda.memory_allocated() / 2**20, torch.cuda.max_memory_allocated() / 2**20
    import psutil

    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux reports kilobytes
    return psutil.Process().memory_info().rss / 2**20, peak_kb / 1024


def release_free_memory() -> None:
    """Hand the C heap's free pages back to the OS (glibc malloc_trim). On CPU each step allocates
    activations of a new shape (batches differ in length) and glibc keeps the freed blocks, so the
    resident set grew ~300 MB a step (SmolLM2 LoRA: 1.6 GB after step 1, ~5 GB after 12) although
    the live tensors did not; trimming after each step keeps the peak at what a step needs."""
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # musl or another libc: nothing to trim
        pass


def append(path: str | Path, record: dict) -> None:
    line = json.dumps(record, ensure_ascii=False, default=float) + "\n"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()


class MetricsCallback(TrainerCallback):
    """Appends start / log / end records to `path`. `samples_per_step` = batch × accumulation."""

    def __init__(self, path: str | Path, device: str, samples_per_step: int):
        self.path = Path(path)
        self.device = device
        self.samples_per_step = samples_per_step
        self.t0 = self.last_t = time.time()
        self.first_step = self.last_step = 0

    def on_train_begin(self, args, state, control, **kwargs):
        self.t0 = self.last_t = time.time()
        # On resume the global step starts past 0: speed and ETA count only steps done in this process.
        self.first_step = self.last_step = state.global_step
        append(self.path, {"type": "start", "time": self.t0, "total_steps": state.max_steps,
                           "step": state.global_step, "device": self.device})

    def on_step_end(self, args, state, control, **kwargs):
        if not self.device.startswith("cuda"):
            release_free_memory()

    def on_log(self, args, state, control, logs=None, **kwargs):
        now = time.time()
        done = state.global_step - self.first_step
        per_step = (now - self.t0) / done if done else None
        window = state.global_step - self.last_step
        speed = window * self.samples_per_step / (now - self.last_t) if window and now > self.last_t else None
        mem, peak = memory_mb(self.device)
        record = {"type": "log", "time": now, "step": state.global_step, "total_steps": state.max_steps,
                  "epoch": state.epoch, "elapsed_s": now - self.t0,
                  "eta_s": per_step * (state.max_steps - state.global_step) if per_step else None,
                  "samples_per_s": speed, "mem_mb": round(mem, 1), "peak_mem_mb": round(peak, 1)}
        record.update({k: v for k, v in (logs or {}).items() if isinstance(v, (int, float))})
        if "train_runtime" in record:  # the trainer's closing summary
            record["type"] = "end"
        append(self.path, record)
        if window:
            self.last_t, self.last_step = now, state.global_step


STOP_FILE = "stop.request"  # written by Stop for a run with no process of its own to signal (ZeroGPU)


class SliceCallback(TrainerCallback):
    """Ends training early with a checkpoint: at `until` (time.time() seconds: a lent ZeroGPU call's
    end less the time to save) or when `stop_file` appears. `why`: "slice", "stop", or None when
    training ran to its end. At least one step runs per slice, so every call makes progress."""

    def __init__(self, until: float, stop_file: str | Path):
        self.until, self.stop_file, self.why = until, Path(stop_file), None

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= state.max_steps:
            return
        if self.stop_file.exists():
            self.why = "stop"
        elif time.time() >= self.until:
            self.why = "slice"
        else:
            return
        control.should_save = True  # the Trainer saves right after this callback, then leaves its loop
        control.should_training_stop = True


def read(path: str | Path) -> list[dict]:
    """All complete records of a metrics file (missing file → [])."""
    path = Path(path)
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line still being written
    return out


def summary(records: list[dict]) -> dict:
    """Latest step/total, ETA, speed and memory, and the curves: {"loss": [(step, value)], ...}."""
    logs = [r for r in records if r.get("type") in ("log", "end")]
    curves = {k: [(r["step"], r[k]) for r in logs if r.get(k) is not None]
              for k in ("loss", "eval_loss", "learning_rate", "samples_per_s", "mem_mb", "reward", "reward_std", "kl",
                        "eval_accuracy")}
    last = logs[-1] if logs else {}

    def latest(key):  # eval records carry no speed: take the newest record that has the value
        return next((r[key] for r in reversed(logs) if r.get(key) is not None), None)

    total = last.get("total_steps") or next((r.get("total_steps") for r in records if r.get("type") == "start"), 0)
    end = next((r for r in reversed(records) if r.get("type") == "end"), {})
    shown = next((r for r in reversed(records) if r.get("type") == "samples"), {})
    return {
        "step": last.get("step", 0), "total_steps": total or 0, "eta_s": last.get("eta_s"),
        "elapsed_s": last.get("elapsed_s"), "samples_per_s": latest("samples_per_s"), "mem_mb": latest("mem_mb"),
        "peak_mem_mb": max((r.get("peak_mem_mb") or 0 for r in logs), default=None),
        "loss": curves["loss"][-1][1] if curves["loss"] else None,
        "eval_loss": curves["eval_loss"][-1][1] if curves["eval_loss"] else None,
        "train_loss": end.get("train_loss"), "train_samples_per_second": end.get("train_samples_per_second"),
        "curves": curves,
        # GRPO: the newest reward / KL and a few replies of the last logged step
        "reward": latest("reward"), "kl": latest("kl"),
        "samples": shown.get("samples", []), "samples_step": shown.get("step"),
    }
