"""Code exercises end to end: every worked solution is accepted and a typical mistake rejected, against
the real thing (engine top-p, SmolLM2's own head, peft, the arena's Elo…); a runaway is stopped and
reported; learner code in classroom mode cannot read the lab's data or another student's run; the
CLI contract `llmlab course check EXERCISE --file SOLUTION.py --json`; no network, no fork bomb.

All solutions (right and wrong) run batched in ONE sandboxed child to keep the time down."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

from apps.errors import LabError
from curriculum import exercises as ex_mod
from curriculum import sandbox
from curriculum.checkers import Answers
from curriculum.code_checks import mismatch

# One typical mistake per exercise: each must be rejected.
WRONG = {
    "playground.top_p_code": '''
import torch
def top_p_filter(logits, p):  # drops the token that crosses p: the nucleus comes out one short
    s, order = torch.sort(logits, dim=-1, descending=True)
    drop = s.softmax(-1).cumsum(-1) > p
    return logits.masked_fill(torch.zeros_like(drop).scatter(-1, order, drop), float("-inf"))
''',
    "attention.head_code": '''
import math
def causal_attention(q, k, v):  # forgets the causal mask: every token sees the future
    return (q @ k.T / math.sqrt(q.shape[1])).softmax(-1) @ v
''',
    "rag.chunker_code": '''
import re
def chunk_sentences(text, size):  # one chunk per line: no packing up to size
    return [line.strip() for line in text.split("\\n") if line.strip()]
''',
    "finetune.lora_code": '''
def lora_forward(x, W, A, B, alpha, r):  # forgets the alpha / r scaling
    return x @ W.T + x @ A.T @ B.T
''',
    "evaluation.elo_code": '''
def elo_update(r_a, r_b, score_a, k):  # ignores the expected score
    return r_a + k * score_a, r_b - k * score_a
''',
    "pretrain.bpe_merge_code": '''
from collections import Counter
def bpe_merge_step(words):  # finds the pair but never merges it
    counts = Counter(p for w in words for p in zip(w, w[1:]))
    return max(counts, key=counts.get), words
''',
    "quantize.absmax_code": '''
import torch
def absmax_int8(w):  # one scale for the whole matrix instead of one per row
    scale = w.abs().max() / 127
    q = torch.round(w / scale)
    return q, q * scale
''',
    "alignment.dpo_code": '''
import math
def dpo_loss(pc, pr, rc, rr, beta):  # forgets beta
    m = (pc - rc) - (pr - rr)
    return math.log1p(math.exp(-m))
''',
}

SNOOP = '''
import os
def snoop(path):
    try:
        if os.path.isdir(path):
            return "listed:" + ",".join(sorted(os.listdir(path)))
        with open(path, encoding="utf-8") as handle:
            return "read:" + handle.read()
    except OSError as exc:
        return "denied:" + type(exc).__name__
'''
ESCAPE = '''
import os, socket, time
def escape():
    try:
        socket.socket().connect(("127.0.0.1", 22))
        net = "connected"
    except OSError as exc:
        net = str(exc)
    forks = 0
    try:
        for _ in range(40):
            if os.fork() == 0:
                time.sleep(60)
                os._exit(0)
            forks += 1
    except OSError:
        pass
    return net, forks
'''
CODE = [ex for ex in ex_mod.exercises() if ex.kind == "code"]


@pytest.fixture(scope="module")
def answers(cache):
    return Answers(cache)


@pytest.fixture
def classroom_lab(monkeypatch):
    """A lab whose data folders sit under a world-traversable folder (as /srv/llmlab would), so only
    the sandbox's own protection can keep a child out; isolation is recomputed for it."""
    base = Path(tempfile.mkdtemp(prefix="llmlab-codeex-"))
    os.chmod(base, 0o755)
    home, runs, public = base / "home", base / "runs", base / "public"
    (runs / "20260101-sft-lora-bob").mkdir(parents=True)
    home.mkdir()
    public.mkdir()
    (home / "progress.db").write_text("SECRET-PROGRESS")
    (runs / "20260101-sft-lora-bob" / "owner.json").write_text("SECRET-BOB")
    (public / "readme.txt").write_text("PUBLIC")
    for folder in (base, home, runs, public, runs / "20260101-sft-lora-bob"):
        os.chmod(folder, 0o755)  # what a careless install leaves: readable by everyone
    for path in (home / "progress.db", runs / "20260101-sft-lora-bob" / "owner.json", public / "readme.txt"):
        os.chmod(path, 0o644)
    for key, value in {"LLMLAB_HOME": home, "LLMLAB_RUNS": runs, "GRADIO_TEMP_DIR": base / "gradio",
                       "LLMLAB_INDEXES": home / "indexes"}.items():
        monkeypatch.setenv(key, str(value))
    sandbox._isolation.clear()
    yield {"home": home, "runs": runs, "public": public}
    sandbox._isolation.clear()


def test_every_code_exercise_accepts_its_solution_and_rejects_a_mistake(answers, classroom_lab):
    assert sorted(WRONG) == sorted(ex.id for ex in CODE) and len(CODE) >= 8
    cases = [answers.expected(ex).value for ex in CODE]
    jobs = [sandbox.Job(ex.solution(), case.function, case.calls) for ex, case in zip(CODE, cases)]
    jobs += [sandbox.Job(WRONG[ex.id], case.function, case.calls) for ex, case in zip(CODE, cases)]
    jobs += [sandbox.Job(ex.starter(), case.function, case.calls[:1]) for ex, case in zip(CODE, cases)]
    lab = classroom_lab
    secrets = [lab["home"] / "progress.db", lab["runs"] / "20260101-sft-lora-bob" / "owner.json", lab["runs"]]
    jobs.append(sandbox.Job(SNOOP, "snoop", [(str(p),) for p in [*secrets, lab["public"] / "readme.txt"]]))
    jobs.append(sandbox.Job(ESCAPE, "escape", [()]))

    if os.geteuid() != 0:  # no uid to switch to: a class may not run code at all, and is told why
        assert not sandbox.isolation(classroom=True).ok
        with pytest.raises(LabError) as err:
            answers.check_code(CODE[0], CODE[0].solution(), classroom=True)
        assert err.value.key == "course.sandbox_not_root"
        report = sandbox.run(jobs[:-2], timeout=120)
    else:
        assert sandbox.isolation(classroom=True).ok
        report = sandbox.run(jobs, timeout=120, classroom=True)
        assert report.user.startswith("uid "), report.user
    assert report.status == "ok", report.detail
    n = len(CODE)
    for i, (ex, case) in enumerate(zip(CODE, cases)):
        assert mismatch(report, case, i) is None, (ex.id, mismatch(report, case, i))
        assert mismatch(report, case, n + i) is not None, f"{ex.id}: the mistake was accepted"
        assert mismatch(report, case, 2 * n + i)[0] == "course.code.error", ex.id  # starters say what to write

    if os.geteuid() == 0:  # the learner's code ran as a stranger: the lab's data and Bob's run stay closed
        seen = report.results[-2].outputs
        assert all(out.startswith("denied:") for out in seen[:3]), seen
        assert seen[3] == "read:PUBLIC"  # the child is not blind: only what the lab protects is closed
        assert not any("SECRET" in out for out in seen)
        net, forks = report.results[-1].outputs[0]
        assert net != "connected" and forks < sandbox.PROCESSES  # no network, no fork bomb


def test_a_runaway_is_stopped_and_reported(answers):
    assert sandbox.WALL_SECONDS <= 30
    verdict = answers.check_code(ex_mod.get("evaluation.elo_code"),
                                 "def elo_update(a, b, s, k):\n    while True:\n        pass\n", timeout=3)
    assert not verdict.correct and verdict.parsed == "timeout"
    assert "Stopped after" in verdict.message and "endless loop" in verdict.message


def test_cli_contract(tmp_path, capsys):
    from apps.cli import main

    db = str(tmp_path / "progress.db")
    right = tmp_path / "top_p.py"
    right.write_text(ex_mod.get("playground.top_p_code").solution())
    code = main(["course", "check", "playground.top_p_code", "--file", str(right), "--student", "Li Lei",
                 "--db", db, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["correct"] is True and "matches the lab's" in out["message"]
    wrong = tmp_path / "elo.py"
    wrong.write_text(WRONG["evaluation.elo_code"])
    code = main(["course", "check", "evaluation.elo_code", "--file", str(wrong), "--db", db, "--json", "--lang", "zh"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and out["correct"] is False and "第 1 组输入" in out["message"]
    assert main(["course", "check", "evaluation.elo_code", "--db", db]) == 2  # no --file
    assert "--file" in capsys.readouterr().err
    code = main(["course", "progress", "--db", db, "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_attempts"] == 2  # both runs recorded like any other attempt
