"""Fine-tuning on a ZeroGPU Space: a run trains inside lent GPU calls, in slices.

ZeroGPU lends a GPU only to a `spaces.GPU` function called from the app, never to a process of our
own, so there the Runner (apps.finetune.runner) drives a run with `LentRun` instead of a subprocess:
each slice is one lent call that runs the runner's own `apps.finetune.train.main` on the worker's
device until the call's time is nearly up, saves a checkpoint and returns; the next call resumes from
it. Same run folder, run.yaml, status.json, metrics.jsonl, checkpoints and adapter as a normal run,
same owner, so the tab's progress, plots, stop and resume work unchanged.

Why slices rather than refusing long runs: ZeroGPU stops a call at its declared duration (most
visitors may ask for up to MAX_CALL_S), while a fine-tune of a small model often needs a few minutes
more; a checkpoint every slice also means a spent quota loses nothing: the run is stopped with the
reason in the visitor's language and resumes from its last checkpoint later.

Each call asks for what the remaining steps need at the rate the previous slice measured (a cautious
guess before the first), capped at MAX_CALL_S. The call runs with the context of the Gradio event
that submitted the run, so ZeroGPU charges the visitor who started it, not the Space.
"""
from __future__ import annotations

import contextlib
import contextvars
import os
import threading
import time
from dataclasses import replace
from pathlib import Path

from apps.errors import LabError
from apps.finetune import progress, runs, train
from apps.finetune.config import load_yaml
from apps.space.gpu import gpu

MAX_CALL_S = 300  # the longest lent call we ask for (ZeroGPU refuses more for most visitors)
LOAD_S = 45  # a cold worker loads the model and data before the first step
SAVE_S = 20  # kept at the end of a call to write the checkpoint before ZeroGPU takes the GPU back
GUESS_S_PER_STEP = 2.0  # before a slice has measured it: cautious for the lab's small models on a GPU


def call_seconds(remaining_steps: int, s_per_step: float) -> int:
    """Seconds to ask of ZeroGPU for the next slice: load + the remaining steps with 50% slack + save."""
    return int(min(MAX_CALL_S, LOAD_S + SAVE_S + remaining_steps * s_per_step * 1.5))


def train_slice(config_path: str, resume: bool, call_s: int) -> dict:
    """What runs inside one lent call: train.main on this worker's device until `call_s` is nearly
    spent; returns the run's status (state "running" with `steps` when it has more to do)."""
    started = time.time()
    folder = Path(config_path).parent
    cfg = replace(load_yaml(config_path), output=str(folder), resume=resume)
    with open(folder / "log.txt", "a", encoding="utf-8") as log, \
            contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        return train.main(cfg, until=started + max(1, call_s - SAVE_S))


def lend():
    """The slice as ZeroGPU sees it, asking for the call's own seconds; built once at import, as
    spaces wants its GPU functions declared before the app launches (tests rebuild it)."""
    return gpu(duration=lambda config_path, resume, call_s: call_s)(train_slice)


_lent_slice = lend()


class LentRun:
    """One run driven through lent calls by a thread of the app; the Runner reads it like a Popen
    (`poll()`: None while it trains, then 0) and stops it with `stop()` (a file the trainer watches:
    a lent call has no process of ours to signal)."""

    def __init__(self, folder: Path, resume: bool, context: contextvars.Context | None = None):
        self.folder, self.resume = Path(folder), resume
        self.pid = os.getpid()
        self._context = context or contextvars.copy_context()
        self._thread = threading.Thread(target=self._context.run, args=(self._drive,), daemon=True,
                                        name=f"zerogpu-{self.folder.name}")

    def start(self) -> "LentRun":
        (self.folder / progress.STOP_FILE).unlink(missing_ok=True)
        self._thread.start()
        return self

    def poll(self) -> int | None:
        return None if self._thread.is_alive() else 0

    def stop(self) -> None:
        (self.folder / progress.STOP_FILE).touch()

    def _steps_done(self) -> int:
        ckpt = runs.latest_checkpoint(self.folder) if self.resume else None
        return int(Path(ckpt).name.split("-")[-1]) if ckpt else 0

    def _drive(self) -> None:
        steps, s_per_step, resume = self._steps_done(), GUESS_S_PER_STEP, self.resume
        try:
            total = load_yaml(self.folder / "run.yaml").max_steps
            while not (self.folder / progress.STOP_FILE).exists():
                call_s = call_seconds(total - steps, s_per_step)
                with open(self.folder / "log.txt", "a", encoding="utf-8") as log:
                    log.write(f"$ ZeroGPU call: {call_s} s from step {steps}\n")
                began = time.time()
                status = _lent_slice(str(self.folder / "run.yaml"), resume, call_s)
                if status.get("state") != "running":  # finished, failed or stopped: train.main said why
                    return
                done = int(status.get("steps") or steps)  # a slice ends after a step, never before one
                s_per_step = (time.time() - began) / max(1, done - steps)
                steps, resume = done, True
                runs.write_status(self.folder, **runs.process_id())  # between calls this thread holds the run
            raise KeyboardInterrupt  # Stop pressed between two calls
        except (KeyboardInterrupt, Exception) as exc:  # noqa: BLE001 - every end is recorded with its reason
            if isinstance(exc, LabError) and exc.key == "space.gpu_quota":  # stopped, not failed: it resumes later
                runs.write_status(self.folder, state="stopped", ended=time.time(), pid=None,
                                  reason=exc.message("en"), reason_zh=exc.message("zh"))
            else:
                runs.record_end(self.folder, exc)
        finally:
            (self.folder / progress.STOP_FILE).unlink(missing_ok=True)
