"""The child side of curriculum.sandbox: runs learner functions on given inputs, writes their outputs.

Not imported by the lab: the sandbox copies this file into an empty temporary folder and runs it
there as `python -I runner.py FOLDER [UID GID]`, under resource limits. It needs only torch.

With UID and GID (the lab runs as root) it starts as root, imports what learners may use (the
interpreter itself may live where no other user can read, e.g. under /root/.pyenv), reads its
inputs, and then drops to that uid for good before any learner code runs. After the drop the
learner can import only modules already imported (PRELOAD) or readable by everyone.

    job.json     {"jobs": [{"source": "sol0.py", "function": "top_p_filter", "inputs": "in0.pt"}, ...]}
    in<i>.pt     a list of argument tuples (torch.save of tensors, numbers, strings, lists)
    started      written here (empty) just before the first learner code runs
    out.pt       written here: [{"ok": bool, "outputs": [...], "error": str}, ...] in job order

Outputs are reduced to plain values (tensors, numbers, strings, lists, tuples, dicts with string
keys) so the parent can read them with `torch.load(weights_only=True)`: nothing the learner defines
is ever unpickled by the lab.
"""
import json
import linecache
import os
import sys
import traceback

MAX_ERROR = 1500
PRELOAD = ("math", "random", "itertools", "functools", "collections", "heapq", "re", "json", "statistics",
           "string", "unicodedata", "typing", "dataclasses", "copy", "operator", "bisect", "fractions",
           "decimal", "time", "encodings.idna", "numpy", "torch", "torch.nn", "torch.nn.functional")


def plain(value, depth=0):
    import torch

    if depth > 8:
        raise TypeError("the result is nested too deeply")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().clone()
    if type(value).__module__ == "numpy":  # numpy arrays and scalars, without importing numpy here
        return torch.as_tensor(value.tolist() if hasattr(value, "tolist") else value)
    if isinstance(value, (list, tuple)):
        items = [plain(v, depth + 1) for v in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: plain(v, depth + 1) for k, v in value.items()}
    raise TypeError(f"the function returned a {type(value).__name__}, which the checker cannot read")


def short_error(exc: BaseException) -> str:
    """The learner's part of the traceback: frames in solution.py only, then the exception."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == "solution.py"]
    lines = [f'  line {f.lineno}, in {f.name}: {f.line or ""}' for f in frames[-4:]]
    text = "\n".join(lines + [f"{type(exc).__name__}: {exc}"])
    return text[-MAX_ERROR:]


def load_job(job: dict, folder: str) -> tuple[str, str, list]:
    import torch

    path = os.path.join(folder, job["source"])
    with open(path, encoding="utf-8") as handle:
        source = handle.read()
    os.unlink(path)  # the learner's code need not stay on disk while it runs
    calls = torch.load(os.path.join(folder, job["inputs"]), weights_only=True)
    return source, job["function"], calls


def no_network() -> bool:
    """A network namespace of its own (nothing but a down loopback): no reaching the lab's server or
    anything else. Needs root (done before the drop); where the kernel refuses, the run goes on."""
    import ctypes

    clone_newnet = 0x40000000
    return ctypes.CDLL(None, use_errno=True).unshare(clone_newnet) == 0


def drop_to(uid: int, gid: int) -> None:
    """For good: real, effective and saved ids, no supplementary groups; check it cannot come back."""
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise SystemExit("could not drop privileges")
    try:
        os.setuid(0)
    except PermissionError:
        return
    raise SystemExit("privileges came back")


def run_job(source: str, function: str, calls: list) -> dict:
    namespace = {"__name__": "solution", "__builtins__": __builtins__}
    linecache.cache["solution.py"] = (len(source), None, source.splitlines(True), "solution.py")  # for tracebacks
    try:
        exec(compile(source, "solution.py", "exec"), namespace)
        fn = namespace.get(function)
        if not callable(fn):
            return {"ok": False, "outputs": [], "error": f"missing: no function named {function}()"}
        outputs = [plain(fn(*args)) for args in calls]
    except MemoryError:
        return {"ok": False, "outputs": [], "error": "memory: the solution ran out of its memory allowance"}
    except BaseException as exc:  # SystemExit, KeyboardInterrupt included: the learner's to raise
        return {"ok": False, "outputs": [], "error": short_error(exc)}
    return {"ok": True, "outputs": outputs, "error": ""}


def main(folder: str, uid: int | None = None, gid: int | None = None) -> int:
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    import torch

    torch.set_num_threads(1)
    with open(os.path.join(folder, "job.json"), encoding="utf-8") as handle:
        jobs = [load_job(job, folder) for job in json.load(handle)["jobs"]]
    if uid is not None:
        no_network()
        drop_to(uid, gid)
    # The parent's runaway clock starts now: imports on a busy server may take many seconds.
    open(os.path.join(folder, "started"), "w").close()
    results = [run_job(*job) for job in jobs]
    tmp = os.path.join(folder, "out.pt.tmp")
    try:
        torch.save(results, tmp)
    except Exception as exc:  # an output torch cannot save: report it instead of the outputs
        torch.save([{"ok": False, "outputs": [], "error": f"unsaveable result: {exc}"[:MAX_ERROR]}] * len(jobs), tmp)
    os.replace(tmp, os.path.join(folder, "out.pt"))
    return 0


if __name__ == "__main__":
    ids = [int(x) for x in sys.argv[2:4]]
    sys.exit(main(sys.argv[1], *ids))
