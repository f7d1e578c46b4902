"""Classroom mode against a hostile student, replayed through raw HTTP against a served lab.

Each attack speaks Gradio's own wire protocol (POST /gradio_api/queue/join with a chosen fn_index
and session_hash, then read /gradio_api/queue/data), the way a student with curl would, and shows
it refused with nothing of the victim's leaking or changing. Students sign in on the real /login page.
"""
from __future__ import annotations

import json
import secrets
import time
from pathlib import Path

import httpx
import pytest

from apps.finetune import runs
from apps.i18n import t


def said(key, **params) -> str:
    """What the UI shows: a session's language is its server-side gr.State (zh until switched),
    whatever a request sends in that slot."""
    return t(key, "zh", **params)

FORM_DEFAULTS = dict(model="smollm2-135m-instruct", method="lora", objective="sft", data="alpaca_en")


class Raw:
    """A student's browser reduced to HTTP: the cookie jar, one session hash, Gradio's protocol."""

    def __init__(self, base: str, cookies: dict | None = None, session_hash: str | None = None):
        self.http = httpx.Client(base_url=base, cookies=cookies or {}, timeout=120, follow_redirects=False)
        self.session_hash = session_hash or secrets.token_hex(6)
        self._config = None

    def config(self) -> dict:
        if self._config is None:
            r = self.http.get("/config")
            r.raise_for_status()
            self._config = r.json()
        return self._config

    def dep(self, elem_id: str, event: str = "click") -> dict:
        cfg = self.config()
        ids = {c["id"] for c in cfg["components"] if c.get("props", {}).get("elem_id") == elem_id}
        for d in cfg["dependencies"]:
            if any(t[0] in ids and t[1] == event for t in d["targets"]) and d.get("backend_fn", True):
                return d
        raise KeyError((elem_id, event))

    def call(self, dep: dict, data: list, session_hash: str | None = None):
        """Run one event; returns (ok, output data or error text). A refused request returns
        (False, 'HTTP <status>')."""
        sh = session_hash or self.session_hash
        body = {"data": data, "fn_index": dep["id"], "session_hash": sh, "event_data": None,
                "trigger_id": dep["targets"][0][0]}
        if not dep.get("queue", True):
            r = self.http.post("/gradio_api/run/predict", json=body)
            if r.status_code != 200:
                return False, f"HTTP {r.status_code}"
            out = r.json()
            return ("error" not in out or out["error"] is None), out.get("data", out.get("error"))
        r = self.http.post("/gradio_api/queue/join", json=body)
        if r.status_code != 200:
            return False, f"HTTP {r.status_code}"
        event_id = r.json()["event_id"]
        with self.http.stream("GET", "/gradio_api/queue/data", params={"session_hash": sh}) as stream:
            if stream.status_code != 200:
                return False, f"HTTP {stream.status_code}"
            for line in stream.iter_lines():
                if not line.startswith("data:"):
                    continue
                msg = json.loads(line[5:])
                if msg.get("event_id") == event_id and msg.get("msg") == "process_completed":
                    out = msg.get("output") or {}
                    return bool(msg.get("success")), out.get("data", out.get("error"))
        return False, "stream ended"

    def upload(self, path: Path) -> dict:
        with open(path, "rb") as fh:
            r = self.http.post("/gradio_api/upload", files={"files": (path.name, fh)})
        r.raise_for_status()
        return {"path": r.json()[0], "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}


def ft_form(lang="en", **overrides) -> list:
    v = {**FORM_DEFAULTS, "upload": None, "steps": 2, "lr": None, "batch": None, "accum": None, "max_len": 32,
         "rank": 8, "alpha": 16, "label": "", "reward": "format", **overrides}
    return [v["model"], v["method"], v["objective"], v["data"], v["upload"], v["steps"], v["lr"], v["batch"],
            v["accum"], v["max_len"], v["rank"], v["alpha"], v["label"], v["reward"], lang]


@pytest.fixture(scope="module")
def lab(classroom_lab):
    return classroom_lab


def as_(lab, who: str, session_hash: str | None = None) -> Raw:
    return Raw(lab["base"], lab["cookies"][who], session_hash)


def test_no_cookie_no_lab(lab):
    base = lab["base"]
    anon = Raw(base)
    assert anon.http.get("/config").status_code == 401
    page = anon.http.get("/")
    assert page.status_code == 303 and page.headers["location"] == "/login"
    dep = as_(lab, "ann").dep("ft-refresh")
    r = anon.http.post("/gradio_api/queue/join", json={"data": ["en"], "fn_index": dep["id"], "session_hash": "x1"})
    assert r.status_code == 401
    assert anon.http.post("/gradio_api/upload", files={"files": ("a.txt", b"hi")}).status_code == 401
    # a forged or tampered cookie is no cookie
    good = lab["cookies"]["ann"]["llmlab_session"]
    body, mac = good.split(".")
    forged = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + mac
    assert Raw(base, {"llmlab_session": forged}).http.get("/config").status_code == 401
    assert Raw(base, {"llmlab_session": "e30." + mac}).http.get("/config").status_code == 401
    # the sign-in page speaks both languages and refuses a wrong password without saying which part
    assert "班级码" in httpx.get(f"{base}/login?lang=zh").text and "Class code" in httpx.get(f"{base}/login?lang=en").text
    r = httpx.post(f"{base}/login?lang=en", data={"code": lab["info"]["code"], "name": "Ann", "password": "wrong-pw"})
    assert r.status_code == 401 and "wrong" in r.text and "llmlab_session" not in r.cookies
    # signed in: the page and the config answer, and the header names the user
    ann = as_(lab, "ann")
    assert ann.http.get("/").status_code == 200 and ann.config()["username"].startswith("c")


def test_another_students_run_is_out_of_reach(lab):
    ann, bob, teacher = as_(lab, "ann"), as_(lab, "bob"), as_(lab, "teacher")
    ok, out = ann.call(ann.dep("ft-start"), ft_form(label="ann-secret"))
    assert ok, out
    root = Path(lab["env"]["LLMLAB_RUNS"])
    [run_id] = [r["run_id"] for r in runs.list_runs(root) if r["label"] == "ann-secret"]
    assert run_id in json.dumps(out)  # her status line names it (the id itself stays in her gr.State)
    folder = root / run_id
    before = runs.read_status(folder)
    assert before["owner"].startswith("c") and before["state"] in ("queued", "running")

    # Bob points his own "current run" at Ann's id: his run list (and so his choices) holds only his runs
    ok, out = bob.call(bob.dep("ft-refresh"), ["en"])
    assert ok and run_id not in json.dumps(out)
    ok, out = bob.call(bob.dep("ft-pick", "change"), [run_id])
    assert not ok
    ok, out = bob.call(bob.dep("ft-stop"), [None, "en"])  # his state holds no run: nothing stopped
    assert not ok
    tick = next(d for d in bob.config()["dependencies"]  # fine-tuning's timer: (current run, lang)
                if any(t[1] == "tick" for t in d["targets"]) and len(d["inputs"]) == 2)
    ok, out = bob.call(tick, [None, "en"])
    assert ok and "ann-secret" not in json.dumps(out) and run_id not in json.dumps(out)  # queue shows no id
    assert runs.read_status(folder)["state"] in runs.ACTIVE

    # below the UI, the logic itself refuses Bob whatever run id reaches it, and touches nothing
    from apps.auth import Auth
    from apps.errors import LabError
    from apps.finetune.compare import compare
    from apps.finetune.runner import Runner

    auth = Auth("classroom", store=lab["store"], secret=b"x" * 32)
    bob_user = auth.user(bob.config()["username"])
    idle = Runner(root, max_running=0)  # a second view of the same runs that never launches anything
    attempts = [lambda: idle.stop(run_id, user=bob_user), lambda: idle.resume(run_id, user=bob_user),
                lambda: runs.log_tail(run_id, root, user=bob_user), lambda: runs.metrics(run_id, root, user=bob_user),
                lambda: runs.merge_and_export(run_id, root=root, user=bob_user),
                lambda: compare(None, run_id, ["hi"], root=root, user=bob_user)]
    for attempt in attempts:
        with pytest.raises(LabError) as err:
            attempt()
        assert err.value.key == "finetune.no_run"  # the same answer as for a run that does not exist
    idle._queue.clear()
    assert runs.read_status(folder)["state"] in runs.ACTIVE and runs.read_status(folder)["owner"] == before["owner"]
    assert [r["run_id"] for r in runs.list_runs(root, user=bob_user)] == []
    # nor may he train against her run as his GRPO reward model, by its id or its folder
    for named in (run_id, str(folder)):
        ok, out = bob.call(bob.dep("ft-start"), ft_form(objective="grpo", reward=f"model:{named}"))
        assert not ok and out == said("finetune.no_run", run_id=named)  # as for a run that does not exist
    assert [r["run_id"] for r in runs.list_runs(root, user=bob_user)] == []

    # quotas: Bob may not queue 1000 steps; Ann may not queue a second run meanwhile
    ok, out = bob.call(bob.dep("ft-start"), ft_form(steps=1000))
    assert not ok and out == said("auth.quota.steps", n=1000, max=200)
    ok, out = ann.call(ann.dep("ft-start"), ft_form())
    assert not ok and out == said("auth.quota.runs", n=1, max=1)

    # the teacher sees it, and may open it; Ann stops her own run
    ok, out = teacher.call(teacher.dep("ft-refresh"), ["en"])
    assert ok and run_id in json.dumps(out) and "Ann" in json.dumps(out)
    ok, out = teacher.call(teacher.dep("ft-pick", "change"), [run_id])
    assert ok
    ok, out = teacher.call(tick, [None, "en"])
    assert ok and "ann-secret" in json.dumps(out)
    ok, out = ann.call(ann.dep("ft-stop"), [None, "en"])
    assert ok, out
    deadline = time.time() + 60
    while runs.read_status(folder)["state"] in runs.ACTIVE and time.time() < deadline:
        time.sleep(0.3)
    assert runs.read_status(folder)["state"] == "stopped"


def test_reusing_a_session_hash_gives_nothing(lab):
    ann, bob = as_(lab, "ann"), as_(lab, "bob")
    save = ann.dep("tasks-key-save")
    ok, out = ann.call(save, ["sk-ann-secret-key", "openai", None, "en"])
    assert ok and "-key" in out[2], out
    thief = as_(lab, "bob", session_hash=ann.session_hash)  # the hash, e.g. read from an old export
    for dep, data in ((save, ["", "openai", None, "en"]), (bob.dep("tasks-key-forget"), ["openai", None, "en"])):
        ok, out = thief.call(dep, data)
        assert not ok and out == "HTTP 401"
    r = thief.http.get("/gradio_api/queue/data", params={"session_hash": ann.session_hash})
    assert r.status_code == 401
    # Gradio's deep link copies a session's component values (her page as she left it) into a link
    r = thief.http.get("/gradio_api/deep_link", params={"session_hash": ann.session_hash})
    assert r.status_code == 401
    r = ann.http.get("/gradio_api/deep_link", params={"session_hash": ann.session_hash})
    assert r.status_code == 200 and r.json()  # her own: every component, made on demand (ui.LazySessionState)
    r = thief.http.post("/gradio_api/cancel", json={"session_hash": ann.session_hash, "fn_index": save["id"],
                                                    "event_id": "x"})
    assert r.status_code == 401  # Gradio's own cancel route checks no one: the lab's gate does
    assert Raw(lab["base"]).http.post("/gradio_api/cancel", json={"session_hash": "zz", "fn_index": 0,
                                                                  "event_id": "x"}).status_code == 401
    r = ann.http.post("/gradio_api/cancel", json={"session_hash": ann.session_hash, "fn_index": save["id"],
                                                  "event_id": "x"})
    assert r.status_code == 200  # her own session: passed on to Gradio unchanged
    # Ann's session is untouched: her key is still there
    ok, out = ann.call(save, ["", "openai", None, "en"])
    assert ok and "sk-ann" not in json.dumps(out) and "-key" in out[2]  # her key, shown by its last four


def test_vote_files_and_the_pool_are_the_teachers(lab, tmp_path):
    from apps.arena.store import VoteStore, default_db_path

    bob, teacher = as_(lab, "bob"), as_(lab, "teacher")
    fake = tmp_path / "fake.jsonl"
    fake.write_text("".join(json.dumps({"model_a": "smollm2-135m-instruct", "model_b": "gemma-3-270m",
                                        "winner": "model_b", "llmlab": {"source": "human"}}) + "\n" for _ in range(20)))
    store = VoteStore(default_db_path())  # the arena follows $LLMLAB_ARENA_DB at each use
    before = store.count()
    ok, out = bob.call(bob.dep("arena-io-import"), [bob.upload(fake), "en"])
    assert not ok and out == said("auth.teacher_only")
    ok, out = bob.call(bob.dep("arena-io-export"), ["en"])
    assert not ok and out == said("auth.teacher_only")
    assert store.count() == before

    # a poisoned pool: an API contestant at the student's URL would get the next voter's key
    poison = "api:openai/gpt-4o-mini@http://127.0.0.1:9/v1"
    ok, out = bob.call(bob.dep("arena-pool-apply"), [poison, "en"])
    assert not ok and out == said("auth.teacher_only")
    ok, out = bob.call(bob.dep("arena-start"), ["named", poison, "smollm2-135m-instruct", "hi", 8, "", "en"])
    assert not ok and out.startswith(said("arena.not_in_pool", names="")[:8])
    ann = as_(lab, "ann")
    pool_box = next(c["id"] for c in ann.config()["components"] if c.get("props", {}).get("elem_id") == "arena-pool")
    load = next(d for d in ann.config()["dependencies"]  # the arena's page-load event fills its pool box
                if any(t[1] == "load" for t in d["targets"]) and pool_box in d["outputs"])
    ok, out = ann.call(load, ["en"])
    assert ok and "127.0.0.1:9" not in json.dumps(out) and "smollm2" in json.dumps(out)

    # the teacher may set the class pool, and students then battle from it
    ok, out = teacher.call(teacher.dep("arena-pool-apply"), ["smollm2-135m-instruct\nsmollm2-135m-instruct@creative", "en"])
    assert ok, out
    ok, out = ann.call(load, ["en"])
    assert ok and "@creative" in json.dumps(out) and "@balanced" not in json.dumps(out)
    # kept in the class database, so a restarted server offers the same pool
    assert [c["name"] for c in lab["store"].pool(lab["info"]["class_id"])] == \
        ["smollm2-135m-instruct", "smollm2-135m-instruct@creative"]


def test_teacher_panel_is_closed_to_students(lab):
    bob, teacher = as_(lab, "bob"), as_(lab, "teacher")
    refresh = teacher.dep("classroom-refresh")
    ok, out = bob.call(refresh, ["en"])
    assert not ok and out == said("auth.teacher_only")
    ok, out = bob.call(teacher.dep("classroom-reset"), ["Ann", "en"])
    assert not ok
    ok, out = teacher.call(refresh, ["en"])
    assert ok and "Ann" in json.dumps(out) and "Bob" in json.dumps(out)
    # a teacher's reset: Ann's old cookie dies at once
    ok, out = teacher.call(teacher.dep("classroom-reset"), ["Ann", "en"])
    text = next(o for o in out if isinstance(o, str) and "`" in o)  # the status line (States come back empty)
    assert ok and text
    assert as_(lab, "ann").http.get("/config").status_code == 401
    password = text.split("`")[1]
    lab["cookies"]["ann"] = lab["sign_in"](lab["base"], lab["info"]["code"], "ann", password)
    assert as_(lab, "ann").http.get("/config").status_code == 200


def test_a_student_cannot_reveal_a_worked_solution(lab):
    """The Roadmap's 'Reveal solution' is an HTTP endpoint like any other: a student replaying the
    teacher's call (any password typed) gets a refusal, the teacher gets the code."""
    bob, teacher = as_(lab, "bob"), as_(lab, "teacher")
    reveal = teacher.dep("course-reveal-playground-top-p-code")
    ok, out = bob.call(reveal, ["any-password", "en"])
    assert not ok and out == said("course.reveal_denied")
    ok, out = teacher.call(reveal, ["", "en"])
    assert ok and "def top_p_filter" in json.dumps(out)
