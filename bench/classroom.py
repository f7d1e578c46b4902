"""A class at once: 30 signed-in students each run a mixed session against one classroom-mode lab.

    .venv/bin/python bench/classroom.py [--students 30] [--tokens 32] [--rag-build shared|each]
                                        [--sign-in-workers 8] [--deadline 240]

A fresh `llmlab serve --mode classroom` runs on a loopback port in a subprocess with its own class
database, votes, progress, runs and indexes in a temporary folder (the model cache stays shared).
The bench creates the class with apps.auth's ClassStore, rosters the students, and each signs in on
the real /login page (first use picks the password). The teacher sets the class's arena pool to the
chat model and a decoding setting of it (so battles use the one loaded model). Then every student,
all at once, in their own cookie jar and Gradio session, runs (order rotated per student, so the
endpoints see a mix):
- chat:       the Playground's Gradio chat API (`/gradio_api/call/chat`), streamed;
- token_view: the Playground's own send event (`/gradio_api/queue/join`), whose last output fills
              the token view (prompt and reply tokens, probabilities, alternatives);
- rag_ask:    the RAG tab's ask event on the student's own saved index of the shipped English lessons;
- arena:      an anonymous battle (two replies streamed together) and then its vote (`arena_vote`).
Every reply is capped at --tokens (SmolLM2, greedy). `--rag-build shared` builds one index through
the first student's build event (timed as rag_build) and copies it into each student's index folder;
`each` has every student build their own (the RAG tab runs one build at a time, so this is slow).
Per action: p50/p95/max latency in seconds, ok and error counts with a few messages; totals. JSON out.
Loopback only; every loop is bounded by the student count and every wait by --deadline.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MODEL = "smollm2-135m-instruct"
POOL = f"{MODEL}\n{MODEL}@creative"
PROMPTS = ["What is a token?", "Name three fruits.", "Why is the sky blue?", "What does attention do?",
           "Say hello in French.", "What is a language model?"]
RAG_QUESTIONS = ["What does top-p sampling do?", "What is a chunk in RAG?", "What is LoRA?",
                 "How is perplexity computed?", "What does an attention head look at?"]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(tmp: Path) -> tuple[subprocess.Popen, str]:
    env = dict(os.environ, LLMLAB_MODE="classroom", LLMLAB_CLASS_DB=str(tmp / "class.db"),
               LLMLAB_ARENA_DB=str(tmp / "arena.db"), LLMLAB_PROGRESS_DB=str(tmp / "progress.db"),
               LLMLAB_RUNS=str(tmp / "runs"), LLMLAB_INDEXES=str(tmp / "indexes"),
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    port = _port()
    log = open(tmp / "server.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "apps", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{url}/login", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit(f"the lab did not start (see {tmp / 'server.log'})")


class Student:
    """One browser: a cookie jar, one Gradio session hash, the app's /config."""

    def __init__(self, url: str, name: str, deadline: float):
        self.url, self.name, self.deadline = url, name, deadline
        self.http = httpx.Client(base_url=url, timeout=httpx.Timeout(120, connect=10), follow_redirects=False)
        self.session_hash = secrets.token_hex(8)
        self.cfg: dict | None = None

    def sign_in(self, code: str, password: str) -> None:
        r = self.http.post("/login", data={"code": code, "name": self.name, "password": password})
        if r.status_code != 303 or "llmlab_session" not in r.cookies:
            raise RuntimeError(f"sign-in HTTP {r.status_code}")

    def config(self) -> dict:
        if self.cfg is None:
            r = self.http.get("/config")
            r.raise_for_status()
            self.cfg = r.json()
        return self.cfg

    def dep(self, elem_id: str | None = None, api_name: str | None = None) -> dict:
        """The event a button (by elem_id) triggers, or the one Gradio names `api_name`."""
        cfg = self.config()
        ids = {c["id"] for c in cfg["components"] if elem_id and c.get("props", {}).get("elem_id") == elem_id}
        for d in cfg["dependencies"]:
            if api_name and d.get("api_name") == api_name:
                return d
            if ids and any(t[0] in ids and t[1] == "click" for t in d["targets"]) and d.get("backend_fn", True):
                return d
        raise KeyError(elem_id or api_name)

    def data(self, dep: dict, **by_elem) -> list:
        """The event's inputs as the page would send them: each component's value from /config,
        with the ones named by elem_id (dashes as underscores) replaced."""
        comps = {c["id"]: c for c in self.config()["components"]}
        out = []
        for cid in dep["inputs"]:
            props = comps[cid].get("props", {})
            key = (props.get("elem_id") or "").replace("-", "_")
            out.append(by_elem[key] if key in by_elem else props.get("value"))
        return out

    def outputs(self, dep: dict, data: list) -> dict:
        comps = {c["id"]: c for c in self.config()["components"]}
        return {comps[cid].get("props", {}).get("elem_id") or str(cid): v for cid, v in zip(dep["outputs"], data)}

    def call(self, dep: dict, data: list):
        """Run one event through the queue as the page does; (output data) or raises with the message."""
        body = {"data": data, "fn_index": dep["id"], "session_hash": self.session_hash, "event_data": None,
                "trigger_id": dep["targets"][0][0]}
        r = self.http.post("/gradio_api/queue/join", json=body)
        if r.status_code != 200:
            raise RuntimeError(f"join HTTP {r.status_code}: {r.text[:120]}")
        event_id = r.json()["event_id"]
        with self.http.stream("GET", "/gradio_api/queue/data", params={"session_hash": self.session_hash}) as s:
            if s.status_code != 200:
                raise RuntimeError(f"queue/data HTTP {s.status_code}")
            for line in s.iter_lines():
                if time.time() > self.deadline:
                    raise TimeoutError("bench deadline")
                if not line.startswith("data:"):
                    continue
                msg = json.loads(line[5:])
                if msg.get("event_id") == event_id and msg.get("msg") == "process_completed":
                    out = msg.get("output") or {}
                    if not msg.get("success"):
                        raise RuntimeError(str(out.get("error"))[:160])
                    return out.get("data")
        raise RuntimeError("the event stream ended early")

    def chat_api(self, prompt: str, tokens: int) -> str:
        """The Playground's chat API (the endpoint gradio_client uses), streamed to the end."""
        r = self.http.post("/gradio_api/call/chat", json={"data": [prompt, [], MODEL, "", tokens, 0.0, 0, "en"]})
        if r.status_code != 200:
            raise RuntimeError(f"call HTTP {r.status_code}: {r.text[:120]}")
        text, event = "", None
        with self.http.stream("GET", f"/gradio_api/call/chat/{r.json()['event_id']}") as s:
            for line in s.iter_lines():
                if time.time() > self.deadline:
                    raise TimeoutError("bench deadline")
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event == "error":
                    raise RuntimeError(line[5:].strip()[:160])
                elif line.startswith("data:") and event in ("generating", "complete"):
                    data = json.loads(line[5:])
                    text = data[0] if data and data[0] else text
        if not text:
            raise RuntimeError("empty reply")
        return text


def timed(results: dict, lock: threading.Lock, action: str, fn):
    t0 = time.perf_counter()
    try:
        out = fn()
        ok, err = True, None
    except Exception as exc:  # noqa: BLE001 - counted per action; the session goes on
        out, ok, err = None, False, f"{type(exc).__name__}: {exc}"
    with lock:
        results.setdefault(action, []).append({"s": time.perf_counter() - t0, "ok": ok, "error": err})
    return out if ok else None


def session(st: Student, i: int, tokens: int, results: dict, lock: threading.Lock) -> None:
    prompt = PROMPTS[i % len(PROMPTS)]

    def token_view():
        dep = st.dep(api_name="respond_entry")
        history = [{"role": "user", "content": [{"type": "text", "text": prompt}]}]
        out = st.outputs(dep, st.call(dep, st.data(dep, pg_chat=history, pg_model=MODEL, pg_max_new=tokens)))
        if not out.get("pg-reply-tokens"):
            raise RuntimeError("the token view stayed empty")

    def rag_ask():
        dep = st.dep(api_name="ask")
        q = RAG_QUESTIONS[i % len(RAG_QUESTIONS)]
        out = st.outputs(dep, st.call(dep, st.data(dep, rag_question=q, rag_model=MODEL, rag_max_tokens=tokens,
                                                   rag_provider="local")))
        if not out.get("rag-answer"):
            raise RuntimeError("no answer")

    def arena():
        start = st.dep("arena-start")
        battle = timed(results, lock, "arena_battle", lambda: st.call(start, st.data(
            start, arena_mode="anony", arena_prompt=prompt, arena_max_new=tokens, arena_api_key="")))
        if battle is None:  # nothing to vote on
            return
        vote = st.dep("arena-vote-a")
        out = timed(results, lock, "arena_vote", lambda: st.call(vote, st.data(vote)))
        if out is not None and "smollm2" not in json.dumps(out):
            with lock:
                results["arena_vote"][-1].update(ok=False, error="the vote revealed no names")

    steps = [("chat", lambda: timed(results, lock, "chat", lambda: st.chat_api(prompt, tokens))),
             ("token_view", lambda: timed(results, lock, "token_view", token_view)),
             ("rag_ask", lambda: timed(results, lock, "rag_ask", rag_ask)),
             ("arena_battle", arena)]
    for k in range(len(steps)):  # rotated: at any moment the class is spread over the endpoints
        action, step = steps[(i + k) % len(steps)]
        if time.time() > st.deadline:  # counted, not run: the bench stays bounded
            with lock:
                results.setdefault(action, []).append({"s": 0.0, "ok": False, "error": "skipped: bench deadline"})
            continue
        step()


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(round(q * (len(values) - 1))))], 3)


def summary(rows: list[dict]) -> dict:
    """Latencies of the actions that finished; failures split into errors (the lab said no or
    broke), timeouts (still running at the deadline) and skipped (not started before it)."""
    ok = [r["s"] for r in rows if r["ok"]]
    failed = [r["error"] for r in rows if not r["ok"]]
    timeouts = sum(e.startswith("TimeoutError") for e in failed)
    skipped = sum(e.startswith("skipped") for e in failed)
    errors = [e for e in failed if not e.startswith(("TimeoutError", "skipped"))]
    return {"n": len(rows), "ok": len(ok), "errors": len(errors), "timeouts": timeouts, "skipped": skipped,
            "p50_s": pct(ok, 0.5), "p95_s": pct(ok, 0.95), "max_s": round(max(ok), 3) if ok else None,
            "error_samples": sorted(set(errors))[:3]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30, help="students signed in at once (at most 64)")
    parser.add_argument("--tokens", type=int, default=32, help="max new tokens of every reply (16..128)")
    parser.add_argument("--rag-build", choices=["shared", "each"], default="shared",
                        help="one index built and copied to every student, or one build per student")
    parser.add_argument("--sign-in-workers", type=int, default=8, help="sign-ins in flight at once")
    parser.add_argument("--deadline", type=float, default=240, help="seconds the mixed sessions may take in all")
    args = parser.parse_args()
    if not 1 <= args.students <= 64:
        raise SystemExit("1 to 64 students: this is a loopback bench, not a load generator")
    if not 16 <= args.tokens <= 128:
        raise SystemExit("--tokens: 16 to 128 (the RAG tab's slider starts at 16)")
    from apps.auth.store import ClassStore

    tmp = Path(tempfile.mkdtemp(prefix="llmlab-classbench-"))
    store = ClassStore(tmp / "class.db")
    info = store.create_class("Bench class")
    names = [f"Student {k:02d}" for k in range(1, args.students + 1)]
    store.add_students(info["class_id"], names)
    report: dict = {"model": MODEL, "students": args.students, "max_new_tokens": args.tokens,
                    "rag_build": args.rag_build, "cpus": os.cpu_count(),
                    "max_batch": int(os.environ.get("LLMLAB_MAX_BATCH", 32))}
    results: dict[str, list] = {}
    lock = threading.Lock()
    proc, url = start_server(tmp)
    try:
        far = time.time() + 600
        teacher = Student(url, "teacher", far)
        teacher.sign_in(info["code"], info["teacher_password"])
        teacher.call(teacher.dep("arena-pool-apply"), [POOL, "en"])  # kept in the class database
        t0 = time.perf_counter()
        teacher.chat_api("hi", 2)  # load the model before anything is timed
        report["warmup_s"] = round(time.perf_counter() - t0, 2)

        students = [Student(url, n, far) for n in names]
        with ThreadPoolExecutor(max(1, min(args.sign_in_workers, 16))) as pool:
            list(pool.map(lambda s: timed(results, lock, "sign_in", lambda: s.sign_in(info["code"], f"pw-{s.name}")),
                          students))
        students = [s for s in students if "llmlab_session" in s.http.cookies]
        ids = {r["name"]: r["user_id"] for r in store.roster(info["class_id"])}

        first, build = students[0], students[0].dep(api_name="build_index")
        builders = students if args.rag_build == "each" else [first]
        for s in builders:  # the RAG tab builds one index at a time: sequential either way
            timed(results, lock, "rag_build",
                  lambda s=s: s.call(build, s.data(build, rag_source="demo", rag_demo_lang="en")))
        if args.rag_build == "shared":  # each student's own folder, holding a copy of the one index
            src = tmp / "indexes" / ids[first.name] / "current"
            for s in students[1:]:
                shutil.copytree(src, tmp / "indexes" / ids[s.name] / "current")

        deadline = time.time() + args.deadline
        for s in students:
            s.deadline = deadline
        t0 = time.perf_counter()
        threads = [threading.Thread(target=session, args=(s, i, args.tokens, results, lock), daemon=True)
                   for i, s in enumerate(students)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=max(1.0, deadline - time.time() + 30))
        wall = time.perf_counter() - t0
        unfinished = sum(th.is_alive() for th in threads)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    with lock:
        report["actions"] = {k: summary(v) for k, v in sorted(results.items())}
    mixed = [r for k, v in results.items() if k not in ("sign_in", "rag_build") for r in v]
    report["totals"] = {"signed_in": len(students), "session_wall_s": round(wall, 2),
                        "actions": len(mixed), "ok": sum(r["ok"] for r in mixed),
                        "not_ok": sum(not r["ok"] for r in mixed), "unfinished_sessions": unfinished,
                        "actions_per_s": round(sum(r["ok"] for r in mixed) / wall, 3) if wall else None}
    shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
