"""Running a learner's code without letting it harm the server or read anyone else's files.

    from curriculum.sandbox import Job, run, isolation
    report = run([Job(source, "top_p_filter", calls=[(logits, 0.9)])], timeout=15)
    report.status                       # "ok" | "timeout" | "crashed"
    report.results[0].outputs           # what the function returned, one per call (plain values)
    isolation(classroom=True).ok        # False: classroom mode turns code exercises off for students

One child process per check (a check may batch several jobs), started with `python -I` in an empty
temporary folder with a scrubbed environment. Limits, set in the child before it runs anything:
wall clock from the moment learner code starts (then the process group and every process of the
sandbox uid are killed), CPU seconds, address space, file size, open files, process count, no core
files. Only inputs and outputs cross the boundary, as files in that folder
(`torch.save` in, `torch.load(weights_only=True)` out); the reference answers stay in the parent.

Who the child runs as: when the lab runs as root, a fresh unprivileged uid for every run (no
passwd entry needed; 61000 + n, gid nogroup), so one student's run cannot touch another's; the
runner drops to it after its own imports, before any learner code (sandbox_runner.py), in a
network namespace of its own; files it leaves in /tmp, /var/tmp or /dev/shm are removed. Before
the first run the lab's private folders (lab_home, runs, indexes, databases, Gradio's uploads)
are closed to "others" and a probe child checks that it really cannot list or read them. Not
root: the child runs as the server's own user and could read what the server reads, so
`isolation(classroom=True)` says no and the Roadmap tab turns code exercises off for students.
"""
from __future__ import annotations

import itertools
import json
import os
import pwd
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

RUNNER = Path(__file__).with_name("sandbox_runner.py")
WALL_SECONDS = 20.0  # learner code running longer is stopped (the issue asks for within 30 s)
STARTUP_SECONDS = 120.0  # before it: the child's own imports, which a busy server may make slow
CPU_SECONDS = 20  # of CPU for the learner code (a busy loop), plus 5 for the imports
MEMORY_BYTES = 3 * 2**30  # address space: torch alone maps ~1 GiB
FILE_BYTES = 32 * 2**20  # the largest file the child may write (inputs are written by the parent)
OPEN_FILES = 256
PROCESSES = 8  # threads count too (torch runs with one); each process has its own MEMORY_BYTES
SCRATCH = ("/tmp", "/var/tmp", "/dev/shm")  # world-writable places a child may have left files in
UID_BASE, UID_SPAN = 61000, 1000
NOGROUP = 65534
_uids = itertools.count()
_uid_lock = threading.Lock()


@dataclass
class Job:
    """One learner function to call once per argument tuple in `calls`."""

    source: str
    function: str
    calls: list[tuple]


@dataclass
class Result:
    ok: bool
    outputs: list = field(default_factory=list)
    error: str = ""


@dataclass
class Report:
    status: str  # ok | timeout | crashed
    results: list[Result]
    seconds: float
    detail: str = ""  # the child's stderr tail when it crashed
    user: str = ""  # who the child ran as ("uid 61003" or "self")


# ---------------------------------------------------------------- who the child runs as

def _sandbox_uid() -> int:
    """A uid no account uses, different for each run (so concurrent runs cannot see each other)."""
    with _uid_lock:
        for _ in range(UID_SPAN):
            uid = UID_BASE + next(_uids) % UID_SPAN
            try:
                pwd.getpwuid(uid)
            except KeyError:
                return uid
    raise RuntimeError("no free sandbox uid")


def private_dirs() -> list[Path]:
    """The lab's folders that hold users' data (existing ones only)."""
    from apps.storage import lab_home

    env = os.environ.get
    found = [lab_home(), Path(env("LLMLAB_RUNS", "runs")), Path(env("LLMLAB_INDEXES") or lab_home() / "indexes"),
             Path(env("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio")]
    found += [Path(p).parent for p in (env("LLMLAB_ARENA_DB"), env("LLMLAB_PROGRESS_DB"), env("LLMLAB_CLASS_DB")) if p]
    unique = {p.expanduser().resolve(): None for p in found}
    return [p for p in unique if p.is_dir() and p != Path(tempfile.gettempdir()).resolve() and p != Path("/")]


def _close_to_others(path: Path) -> None:
    """Drop the "others" bits of a folder (the owner and group keep theirs)."""
    mode = path.stat().st_mode
    if mode & 0o007:
        os.chmod(path, stat.S_IMODE(mode) & ~0o007)


_PROBE = """
import os, sys
uid, gid = int(sys.argv[1]), int(sys.argv[2])
os.setgroups([]); os.setgid(gid); os.setuid(uid)
leaks = []
for path in sys.argv[3:]:
    try:
        os.listdir(path)
        leaks.append(path)
    except OSError:
        pass
print("\\n".join(leaks))
"""


def probe(paths: list[Path]) -> list[str]:
    """Paths a sandbox child can list (run as a sandbox uid): empty when isolation holds."""
    if not paths:
        return []
    out = subprocess.run([sys.executable, "-I", "-c", _PROBE, str(_sandbox_uid()), str(NOGROUP), *map(str, paths)],
                         capture_output=True, text=True, timeout=30, env=_env("/"), cwd="/")
    if out.returncode:
        return [f"probe failed: {out.stderr[-300:]}"]
    return [line for line in out.stdout.splitlines() if line]


@dataclass(frozen=True)
class Isolation:
    ok: bool  # a class may use code exercises: the child cannot read the lab's or other users' files
    reason: str = ""  # i18n key saying why not
    uid_switch: bool = False  # children run as a fresh unprivileged uid


_isolation: dict = {}


def isolation(classroom: bool) -> Isolation:
    """Whether learner code may run for a class here (computed once per process and mode)."""
    if classroom not in _isolation:
        _isolation[classroom] = _decide(classroom)
    return _isolation[classroom]


def _decide(classroom: bool) -> Isolation:
    if os.geteuid() != 0:
        # personal mode: the learner runs their own code on their own machine, as themselves
        return Isolation(ok=not classroom, reason="course.sandbox_not_root" if classroom else "")
    dirs = private_dirs()
    for path in dirs:
        _close_to_others(path)
    leaks = probe(dirs)
    if leaks:
        return Isolation(ok=False, reason="course.sandbox_leak", uid_switch=True)
    return Isolation(ok=True, uid_switch=True)


# ---------------------------------------------------------------- running

def _env(folder: str) -> dict:
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": folder, "TMPDIR": folder, "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}


def _pids_of(uid: int) -> list[int]:
    pids = []
    for entry in os.scandir("/proc"):
        try:
            if entry.name.isdigit() and entry.stat().st_uid == uid:
                pids.append(int(entry.name))
        except OSError:
            pass
    return pids


def _count_tasks(uid: int) -> int:
    """RLIMIT_NPROC counts threads, so a server's worker threads count against it."""
    count = 0
    for pid in _pids_of(uid):
        try:
            count += len(os.listdir(f"/proc/{pid}/task"))
        except OSError:
            pass
    return count


def _limits(processes: int, wall: float):
    cpu = int(min(CPU_SECONDS, wall)) + 5  # + the imports before the learner code

    def apply():  # runs in the child between fork and exec: only plain system calls
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_BYTES, FILE_BYTES))
        resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))
        resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def run(jobs: list[Job], timeout: float = WALL_SECONDS, classroom: bool = False) -> Report:
    """Run the jobs in one sandboxed child. timeout: wall-clock seconds the learner code may run,
    counted from the moment it starts (the child's imports before it have STARTUP_SECONDS)."""
    import torch

    iso = isolation(classroom)
    switch = iso.uid_switch or os.geteuid() == 0
    folder = Path(tempfile.mkdtemp(prefix="llmlab-sandbox-"))
    started = time.perf_counter()
    uid = None
    try:
        spec = []
        for i, job in enumerate(jobs):
            (folder / f"sol{i}.py").write_text(job.source, encoding="utf-8")
            torch.save([tuple(args) for args in job.calls], folder / f"in{i}.pt")
            spec.append({"source": f"sol{i}.py", "function": job.function, "inputs": f"in{i}.pt"})
        (folder / "job.json").write_text(json.dumps({"jobs": spec}), encoding="utf-8")
        shutil.copyfile(RUNNER, folder / "runner.py")
        ids: list[str] = []
        if switch:  # the runner drops to this uid itself, after its imports (see sandbox_runner.py)
            uid = _sandbox_uid()
            os.chown(folder, uid, NOGROUP)  # its only writable place; the inputs stay root's, read before the drop
            ids = [str(uid), str(NOGROUP)]
            processes, who = PROCESSES, f"uid {uid}"
        else:  # the limit counts every process of this user: leave room above what is running
            processes, who = _count_tasks(os.getuid()) + PROCESSES, "self"
        with open(folder / "stderr.txt", "wb") as err_file:  # a file: a chatty child cannot block on a pipe
            proc = subprocess.Popen([sys.executable, "-I", "runner.py", str(folder), *ids], cwd=folder,
                                    env=_env(str(folder)), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=err_file, start_new_session=True,
                                    preexec_fn=_limits(processes, timeout), umask=0o077)
        try:
            ran, state = _wait(proc, folder / "started", timeout)
        finally:
            _kill(proc, uid)  # whatever it left behind
        seconds = round(ran if ran is not None else time.perf_counter() - started, 2)
        if state == "timeout" or proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL):  # wall or CPU ran out
            return Report("timeout", [], seconds, user=who)
        out = folder / "out.pt"
        tail = (folder / "stderr.txt").read_bytes()[-1500:].decode("utf-8", "replace")
        if not out.is_file() or out.stat().st_size > FILE_BYTES:
            return Report("crashed", [], seconds, detail=tail or f"exit status {proc.returncode}", user=who)
        try:
            raw = torch.load(out, weights_only=True)
            results = [Result(bool(r["ok"]), list(r["outputs"]), str(r["error"])) for r in raw][:len(jobs)]
        except Exception as exc:  # a file the learner's code wrote over ours
            return Report("crashed", [], seconds, detail=f"unreadable results: {exc}"[:500], user=who)
        if len(results) < len(jobs):
            return Report("crashed", results, seconds, detail="missing results", user=who)
        return Report("ok", results, seconds, user=who)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if uid is not None:
            _remove_files_of(uid)


def _wait(proc: subprocess.Popen, marker: Path, timeout: float) -> tuple[float | None, str]:
    """Wait for the child: STARTUP_SECONDS until `marker` appears, then `timeout` more.
    Returns (seconds the learner code ran or None, "done" | "timeout")."""
    begun = time.perf_counter()
    learner_start = None
    while True:
        now = time.perf_counter()
        if learner_start is None and marker.exists():
            learner_start = now
        if proc.poll() is not None:
            return (now - learner_start if learner_start is not None else None), "done"
        limit = begun + STARTUP_SECONDS if learner_start is None else learner_start + timeout
        if now >= limit:
            return (now - learner_start if learner_start is not None else None), "timeout"
        time.sleep(0.05)


def _remove_files_of(uid: int) -> None:
    """What a sandbox uid left in the world-writable scratch folders (top level) goes with it."""
    for base in SCRATCH:
        try:
            entries = list(os.scandir(base))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid != uid:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
            except OSError:
                pass


def _kill(proc: subprocess.Popen, uid: int | None) -> None:
    """The child's process group, and with a sandbox uid every process of that uid (one that left
    the group with setsid included)."""
    pids = _pids_of(uid) if uid is not None else []
    for target, kill in [(proc.pid, os.killpg)] + [(pid, os.kill) for pid in pids]:
        try:
            kill(target, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
