"""`llmlab chat` driven through a pseudo-terminal, as a person types: two turns, Ctrl-C during a
reply (the reply stops, the program does not), /params, /save, /reset, then Ctrl-D."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from apps.deploy.chat import ChatSession
from apps.errors import LabError

pexpect = pytest.importorskip("pexpect")
ROOT = Path(__file__).resolve().parents[2]


def test_repl_multi_turn_ctrl_c_and_save(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), LLMLAB_LANG="en", TERM="dumb")
    child = pexpect.spawn(sys.executable, ["-m", "apps", "chat", "--model", "smollm2-135m-instruct",
                                           "--max-tokens", "24", "--system", "You are a helpful assistant."],
                          cwd=str(ROOT), env=env, encoding="utf-8", timeout=180)
    try:
        child.expect("Ready: smollm2-135m-instruct")
        child.expect_exact("you> ")
        child.sendline("What is the capital of France?")
        child.expect(r"\[(\d+) tokens · [\d.]+ tokens/s")
        child.expect_exact("you> ")
        child.sendline("/params max_tokens=400")
        child.expect_exact("max_tokens=400")
        child.expect_exact("you> ")
        child.sendline("Write a very long story about a dragon who learns to read.")
        child.expect(r"model> \S+ \S+")  # a few words of the reply are out: stop it
        child.sendintr()
        child.expect_exact("[stopped")
        child.expect_exact("you> ")  # the program is still here
        saved = tmp_path / "chat.json"
        child.sendline(f"/save {saved}")
        child.expect_exact("Saved 4 messages")
        child.expect_exact("you> ")
        child.sendline("/nope")
        child.expect_exact("Unknown command /nope")
        child.sendline("/reset")
        child.expect_exact("Conversation cleared.")
        child.expect_exact("you> ")
        child.sendeof()
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    data = json.loads(saved.read_text(encoding="utf-8"))
    roles = [m["role"] for m in data["messages"]]
    assert roles == ["user", "assistant", "user", "assistant"] and data["system"] == "You are a helpful assistant."
    assert "Paris" in data["messages"][1]["content"]
    stopped = data["messages"][3]["content"]
    assert stopped and len(stopped.split()) < 300  # what was said before Ctrl-C, not a whole 400-token story


def test_session_params_are_checked_as_a_whole():
    s = ChatSession("smollm2-135m-instruct")
    with pytest.raises(LabError):
        s.set_params("temperature=0.5 top_p=7")
    assert s.params == {"max_tokens": 256, "temperature": 0.0}  # nothing half-applied
    with pytest.raises(LabError):
        s.set_params("color=blue")
    s.set_params("temperature=0.7 seed=3")
    assert s.config().do_sample and s.config().seed == 3
