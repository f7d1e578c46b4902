"""Pretraining end to end on the CPU: the CLI contract (JSON keys, loss falls, exit 2 on bad input),
the output folder in a fresh process with plain transformers and in the lab's own generation, and a
run killed mid-way through the shared runner that is marked failed and resumes from its checkpoint."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from apps.cli import main as llmlab
from apps.errors import LabError
from apps.finetune import progress, runs
from apps.pretrain import jobs
from apps.pretrain.config import PretrainConfig

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
# nano with a short context: tens of milliseconds a step on 2 cores
NANO = ["--corpus", "lessons-zh", "--preset", "nano", "--vocab-size", "500", "--context", "32", "--seed", "1"]


def test_cli_trains_and_loss_falls(tmp_path, capsys):
    out = tmp_path / "nano-zh"
    code = llmlab(["pretrain", *NANO, "--max-steps", "40", "--output", str(out), "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0, payload
    for key in ("first_loss", "final_loss", "val_loss", "params", "tokens_seen", "seconds", "output"):
        assert payload[key] is not None, key
    # ln(500) = 6.2 nats at random; 40 steps take off > 0.5 nats (seeded: the same numbers every run)
    assert payload["final_loss"] < payload["first_loss"] - 0.5 and payload["val_loss"] < payload["first_loss"] - 0.4, payload
    assert payload["tokens_seen"] == 40 * 8 * 32 and payload["output"] == str(out.resolve())
    records = progress.read(out / "metrics.jsonl")
    assert [r["step"] for r in records if r.get("type") == "sample"][-2:] == [40, 40]  # both prompts at the end
    assert any(r.get("eval_loss") for r in records)

    # a fresh process, plain transformers: load and generate
    script = ("import sys; from transformers import AutoModelForCausalLM, AutoTokenizer; p = sys.argv[1]; "
              "tok = AutoTokenizer.from_pretrained(p); m = AutoModelForCausalLM.from_pretrained(p); "
              "ids = tok('大模型', return_tensors='pt').input_ids; "
              "out = m.generate(ids, max_new_tokens=8, do_sample=False, pad_token_id=tok.eos_token_id); "
              "print(type(m).__name__, out.shape[1] > ids.shape[1], repr(tok.decode(out[0])))")
    done = subprocess.run([sys.executable, "-c", script, str(out)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("LlamaForCausalLM True '大模型"), done.stdout

    # a model of the lab: the registry takes the folder, the lab's generation runs it
    from apps.models import generation, registry
    from apps.models.loading import load_model

    assert registry.resolve(str(out)).kind == "base"
    lm = load_model(str(out))
    result = generation.generate(lm, "语言模型", generation.GenerationConfig(max_new_tokens=6, top_logprobs=0))
    assert result.text and 1 <= result.completion_tokens <= 6


@pytest.mark.parametrize("flags, key", [
    (["--corpus", "BINARY"], "pretrain.binary"),
    (["--corpus", "lessons-zh", "--vocab-size", "30000"], "pretrain.vocab_too_large"),
    (["--corpus", "lessons-zh", "--vocab-size", "500", "--context", "20000"], "pretrain.context_too_long"),
])
def test_cli_bad_input_exits_2_with_a_message(tmp_path, capsys, flags, key):
    (tmp_path / "b.bin").write_bytes(bytes(range(256)) * 50)
    flags = [str(tmp_path / "b.bin") if f == "BINARY" else f for f in flags]
    out = tmp_path / "never"
    code = llmlab(["pretrain", *flags, "--preset", "nano", "--max-steps", "5", "--output", str(out), "--json"])
    captured = capsys.readouterr()
    assert code == 2
    assert json.loads(captured.out)["error"]["key"] == key
    assert captured.err.startswith("error: ") and "Traceback" not in captured.err
    assert not out.exists()  # refused before anything was made


def test_killed_run_is_failed_then_resumes_from_its_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMLAB_RUNS", str(tmp_path))
    runner = jobs.make_runner()
    try:
        cfg = PretrainConfig(corpus=["lessons-zh"], preset="tiny", vocab_size=500, context=64, max_steps=24,
                             save_every=6, eval_every=12, sample_tokens=4, seed=2, label="killme")
        run_id = jobs.submit(runner, cfg, owner="alice")
        folder = jobs.root() / run_id
        with pytest.raises(LabError) as err:
            jobs.stop(runner, run_id, owner="mallory")
        assert err.value.key == "pretrain.not_yours"
        deadline = time.time() + 120
        while not runs.latest_checkpoint(folder) and time.time() < deadline:
            time.sleep(0.05)
        pid = runs.read_status(folder)["pid"]
        os.killpg(pid, signal.SIGKILL)  # as the OOM killer would: no chance to write a status
        status = runner.wait(run_id, timeout=60)
        assert status["state"] == "failed" and "signal 9" in status["reason"], status
        ckpt_step = int(Path(runs.latest_checkpoint(folder)).name.split("-")[-1])
        assert 6 <= ckpt_step < 24

        jobs.resume(runner, run_id, owner="alice")
        status = runner.wait(run_id, timeout=180)
        assert status["state"] == "finished", (status, runs.log_tail(run_id, jobs.root()))
        starts = [r for r in progress.read(folder / "metrics.jsonl") if r["type"] == "start"]
        assert starts[-1]["step"] >= ckpt_step and status["final"]["steps"] == 24
        assert jobs.status(run_id, "alice")["model_path"] == str(folder)
        assert [m["run_id"] for m in jobs.list_models()] == [run_id]
        assert jobs.list_runs("mallory") == [] and jobs.list_runs("alice")[0]["label"] == "killme"
    finally:
        runner.shutdown()
