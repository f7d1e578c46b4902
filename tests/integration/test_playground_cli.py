"""The CLI as a user runs it: a subprocess, JSON out, non-zero exit with a message on bad input."""
import json
import subprocess
import sys

import pytest


def llmlab(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "apps", *args], capture_output=True, text=True, timeout=timeout)


def test_generate_json(smollm):
    out = llmlab("generate", "--model", "smollm2-135m-instruct", "--prompt", "Say hello", "--max-new-tokens", "6", "--json")
    assert out.returncode == 0, out.stderr[-2000:]
    payload = json.loads(out.stdout)
    assert payload["completion_tokens"] == len(payload["tokens"]) >= 1
    assert payload["tokens_per_s"] > 0 and payload["ttft_s"] > 0
    assert payload["prompt"].startswith("<|im_start|>")


@pytest.mark.parametrize("args,needle", [
    (["generate", "--model", "no-such", "--prompt", "x"], "Unknown model"),
    (["generate", "--prompt", "  "], "empty"),
    (["generate", "--prompt", "x", "--temperature", "0", "--sample"], "temperature"),
])
def test_bad_input_exits_nonzero(args, needle):
    out = llmlab(*args)
    assert out.returncode == 2 and needle in out.stderr


def test_models_and_tokenize():
    out = llmlab("models", "--json")
    assert out.returncode == 0 and {m["name"] for m in json.loads(out.stdout)} >= {"gemma-3-270m"}
    out = llmlab("tokenize", "--model", "gemma-3-270m", "--text", "你好世界", "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["count"] >= 1
