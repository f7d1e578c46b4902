"""Runs training in subprocesses: one heavy run at a time, a visible FIFO queue, stop and resume.

    runner = Runner()                          # one per app (the tab builds it), shared by its users
    run_id = runner.submit(cfg, user=user, quotas=quotas)  # queued; starts when the device is free
    runner.queue()                             # [{"run_id", "state", "owner", "position"}]
    runner.stop(run_id, user=user); runner.resume(run_id, user=user)  # only the owner or their teacher

`user` is an apps.auth.User: the run's owner is user.id, and stop/resume of a run the user may not
reach is refused as if the run did not exist (user=None: the trusted local caller). `quotas`
(apps.auth.quotas.Quotas) caps a student's steps and queued runs before anything is written.

Each run is `python -m apps.finetune.train --config runs/<id>/run.yaml --output runs/<id>` with its
output in runs/<id>/log.txt, in its own process group so stop reaches every child. A process that
dies without writing its status (SIGKILL, OOM killer) is recorded as failed with the reason; a run
started from the CLI (no runner) is judged by its pid and start time (runs.alive / runs.settle).

On a ZeroGPU Space a fine-tuning run gets no process of its own (ZeroGPU lends a GPU only to calls
of the app): it trains in lent calls driven by apps.space.zerotrain.LentRun, which the runner reads
like a process; stop then asks the trainer to checkpoint and end (there is no process to signal).

Other stages reuse it with their own training module (same `--config/--output/--resume` flags,
same status.json and checkpoints/checkpoint-N/trainer_state.json): `Runner(root, module=
"apps.pretrain.train")`, then `enqueue(run_id)` for a folder they prepared themselves.
"""
from __future__ import annotations

import contextvars
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

from apps.errors import LabError
from apps.finetune import config as config_mod
from apps.finetune import runs, train
from apps.finetune.config import RunConfig
from apps.space.gpu import zero_gpu

STOP_GRACE_S = 15  # SIGTERM first (the run records "stopped"), SIGKILL if it has not exited by then


def _signal(proc, sig: int) -> None:
    """SIGTERM / SIGKILL a run's process group; a ZeroGPU run (no process of its own) is asked to stop."""
    if isinstance(proc, subprocess.Popen):
        os.killpg(proc.pid, sig)  # the process group: dataloader workers stop too
    elif sig == signal.SIGTERM:
        proc.stop()  # the trainer checkpoints and ends at its next step; ZeroGPU ends the call at its duration


def _how(returncode: int | None) -> str:
    if returncode is not None and returncode < 0:
        try:
            return f"signal {-returncode} ({signal.Signals(-returncode).name})"
        except ValueError:
            return f"signal {-returncode}"
    return f"exit code {returncode}"


class Runner:
    """The app's training queue. Thread-safe; a daemon thread reaps processes and starts the next
    queued run while there is work, and exits when idle."""

    def __init__(self, root: Path | None = None, max_running: int = 1, module: str = "apps.finetune.train"):
        self.root = Path(root) if root else runs.runs_root()
        self.max_running = max_running
        self.module = module  # `python -m <module> --config run.yaml --output <folder> [--resume]`
        self._lock = threading.RLock()
        self._procs: dict[str, subprocess.Popen] = {}
        self._queue: list[str] = []
        self._stopping: dict[str, float] = {}  # run_id → when SIGTERM was sent
        self._contexts: dict[str, contextvars.Context] = {}  # run_id → its submitter's context (ZeroGPU)
        self._watcher: threading.Thread | None = None
        self._recover()

    # ---- public ----
    def submit(self, cfg: RunConfig, owner: str = "", user=None, quotas=None) -> str:
        """Queue a new run (defaults resolved for this machine). QLoRA without CUDA is refused here
        with the explanation, before anything is queued; so is a run over the user's quota."""
        from apps.models.loading import pick_device

        if user is not None:
            owner = user.id
            if quotas is not None:
                active = sum(r["state"] in runs.ACTIVE and r["owner"] == user.id for r in runs.list_runs(self.root))
                quotas.training(user, cfg.max_steps, active)

        if cfg.objective == "grpo":  # a reward model named by run id must be one `user` may reach
            from apps.align.rewards import pin

            cfg = replace(cfg, reward=pin(cfg.reward, self.root, user))
        device = pick_device(cfg.device)
        cfg, _ = config_mod.resolve_defaults(replace(cfg, output="", resume=False), device)
        train.check_method(cfg, device)
        cfg = replace(cfg, output=str(runs.run_dir(runs.new_run_id(cfg), self.root)))
        cfg, folder = train.prepare(cfg, owner=owner, state="queued")
        self._contexts[folder.name] = contextvars.copy_context()  # whose ZeroGPU quota its calls use
        return self.enqueue(folder.name)

    def enqueue(self, run_id: str) -> str:
        """Queue a run folder already prepared under root (run.yaml, status.json "queued")."""
        with self._lock:
            self._queue.append(run_id)
        self._pump()
        return run_id

    def resume(self, run_id: str, owner: str = "", user=None, quotas=None) -> str:
        folder = runs.run_dir(run_id, self.root)
        if user is not None:
            info = runs.get_run(run_id, self.root, user)  # refuses someone else's run
            owner = info["owner"]
            if quotas is not None:
                active = sum(r["state"] in runs.ACTIVE and r["owner"] == owner for r in runs.list_runs(self.root))
                quotas.training(user, info["max_steps"], active)
        status = runs.read_status(folder)
        if status.get("state") in runs.ACTIVE:
            raise LabError("finetune.busy", run_id=run_id)
        if not runs.latest_checkpoint(folder):
            raise LabError("finetune.not_resumable", run_id=run_id)
        runs.write_status(folder, state="queued", reason="", reason_zh="", owner=owner or status.get("owner", ""))
        self._contexts[run_id] = contextvars.copy_context()
        with self._lock:
            self._queue.append(run_id)
        self._pump()
        return run_id

    def stop(self, run_id: str, user=None) -> str:
        """Stop a queued or running run; returns the state it ends in (or will, once it exits)."""
        folder = runs.run_dir(run_id, self.root)
        if user is not None:
            runs.get_run(run_id, self.root, user)  # refuses someone else's run, touching nothing
        with self._lock:
            if run_id in self._queue:
                self._queue.remove(run_id)
                self._contexts.pop(run_id, None)  # it will not launch: drop the submitter's context
                self._mark(folder, "stopped", "finetune.stopped_reason")
                return "stopped"
            proc = self._procs.get(run_id)
            if proc is None or proc.poll() is not None:
                raise LabError("finetune.not_stoppable", run_id=run_id, state=runs.read_status(folder).get("state", "?"))
            self._stopping[run_id] = time.time()
        _signal(proc, signal.SIGTERM)
        return "stopping"

    def queue(self) -> list[dict]:
        """Running runs first, then the queue in order: [{"run_id", "state", "owner", "position"}]."""
        self.poll()
        with self._lock:
            ids = list(self._procs) + list(self._queue)
        rows = []
        for i, run_id in enumerate(ids):
            status = runs.read_status(runs.run_dir(run_id, self.root))
            rows.append({"run_id": run_id, "state": status.get("state", "?"), "owner": status.get("owner", ""),
                         "position": i})
        return rows

    def running(self) -> list[str]:
        with self._lock:
            return [r for r, p in self._procs.items() if p.poll() is None]

    def wait(self, run_id: str, timeout: float = 600) -> dict:
        """Block until the run leaves queued/running (tests, scripts); returns its status."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.poll()
            status = runs.read_status(runs.run_dir(run_id, self.root))
            with self._lock:
                pending = run_id in self._procs or run_id in self._queue
            if not pending and status.get("state") not in runs.ACTIVE:
                return status
            time.sleep(0.3)
        raise TimeoutError(run_id)

    def shutdown(self) -> None:
        """Stop everything this runner started (app exit)."""
        with self._lock:
            self._queue.clear()
            ids = list(self._procs)
        for run_id in ids:
            try:
                self.stop(run_id)
            except LabError:
                pass

    # ---- internals ----
    def poll(self) -> None:
        """Reap finished processes, escalate slow stops, start queued runs."""
        with self._lock:
            for run_id, proc in list(self._procs.items()):
                code = proc.poll()
                asked = self._stopping.get(run_id)
                if code is None:
                    if asked and time.time() - asked > STOP_GRACE_S:
                        _signal(proc, signal.SIGKILL)
                    continue
                del self._procs[run_id]
                self._stopping.pop(run_id, None)
                folder = runs.run_dir(run_id, self.root)
                state = runs.read_status(folder).get("state")
                if asked and state not in ("finished", "stopped"):
                    self._mark(folder, "stopped", "finetune.stopped_reason")
                elif state in runs.ACTIVE:  # died before it could say why: killed, OOM, segfault
                    self._mark(folder, "failed", "finetune.killed", how=_how(code))
        self._pump(poll=False)

    def _mark(self, folder: Path, state: str, key: str, **params) -> None:
        from apps.i18n import t

        runs.write_status(folder, state=state, pid=None, ended=time.time(),
                          reason=t(key, "en", **params), reason_zh=t(key, "zh", **params))

    def _pump(self, poll: bool = True) -> None:
        with self._lock:
            while self._queue and len([p for p in self._procs.values() if p.poll() is None]) < self.max_running:
                self._launch(self._queue.pop(0))
            if (self._procs or self._queue) and not (self._watcher and self._watcher.is_alive()):
                self._watcher = threading.Thread(target=self._watch, name=f"runner-{self.module}", daemon=True)
                self._watcher.start()

    def _launch(self, run_id: str) -> None:
        folder = runs.run_dir(run_id, self.root)
        resume = bool(runs.latest_checkpoint(folder)) and runs.read_status(folder).get("started") is not None
        context = self._contexts.pop(run_id, None)
        if self.module == "apps.finetune.train" and zero_gpu():  # only lent calls get a GPU there
            from apps.space.zerotrain import LentRun

            runs.write_status(folder, state="running", **runs.process_id())
            self._procs[run_id] = LentRun(folder, resume, context).start()
            return
        cmd = [sys.executable, "-m", self.module, "--config", str(folder / "run.yaml"),
               "--output", str(folder)] + (["--resume"] if resume else [])
        with open(folder / "log.txt", "ab") as log:
            log.write(f"$ {' '.join(cmd)}\n".encode())
            log.flush()
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        runs.write_status(folder, state="running", **runs.process_id(proc.pid))
        self._procs[run_id] = proc

    def _watch(self) -> None:
        while True:
            self.poll()
            with self._lock:
                if not self._procs and not self._queue:
                    return
            time.sleep(0.5)

    def _recover(self) -> None:
        """After an app restart: runs left 'running' by a dead process are failed; queued ones re-queue."""
        for folder, status in runs.scan(self.root)[::-1]:  # oldest first keeps the queue order
            if status.get("state") == "running" and not runs.alive(status):  # a live CLI run stays running
                self._mark(folder, "failed", "finetune.killed", how="app restarted")
            elif status.get("state") == "queued":
                self._queue.append(folder.name)
        self._pump()
