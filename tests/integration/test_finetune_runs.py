"""End to end on the CPU with SmolLM2: LoRA SFT through the runner's subprocess, reload in a fresh
process with plain peft, merge, resume, DPO through the CLI, and runs that must fail cleanly."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from apps.finetune import config as config_mod
from apps.finetune import progress, runs
from apps.finetune.config import RunConfig, load_yaml
from apps.finetune.runner import Runner

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
# tiny and fast: 64-token examples, one example per step
TINY = dict(model="smollm2-135m-instruct", method="lora", max_length=64, batch_size=1, grad_accum=1,
            learning_rate=2e-3, lora_r=8, lora_alpha=16, logging_steps=1)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    path = tmp_path_factory.mktemp("runs")
    os.environ["LLMLAB_RUNS"] = str(path)  # for list_adapters() and the CLI subprocess
    yield path
    os.environ.pop("LLMLAB_RUNS", None)


@pytest.fixture(scope="module")
def runner(root):
    r = Runner(root)
    yield r
    r.shutdown()


@pytest.fixture(scope="module")
def lora_run(runner):
    cfg = RunConfig(**TINY, data="alpaca_en", max_steps=3, eval_fraction=0.2, eval_steps=3, save_steps=3, label="owl")
    run_id = runner.submit(cfg, owner="tester")
    status = runner.wait(run_id, timeout=300)
    assert status["state"] == "finished", (status, runs.log_tail(run_id, runner.root))
    return runs.get_run(run_id, runner.root)


def test_lora_run_records_loss_and_files(lora_run):
    folder = Path(lora_run["folder"])
    m = progress.summary(progress.read(folder / "metrics.jsonl"))
    assert m["step"] == m["total_steps"] == 3
    assert len(m["curves"]["loss"]) == 3 and all(v > 0 for _, v in m["curves"]["loss"])
    assert m["curves"]["eval_loss"] and m["curves"]["learning_rate"]
    assert m["peak_mem_mb"] > 100
    for name in ("run.yaml", "command.txt", "accelerate.yaml", "deepspeed.json", "log.txt", "adapter/adapter_config.json"):
        assert (folder / name).exists(), name
    assert "llmlab finetune --config run.yaml" in (folder / "command.txt").read_text()
    assert load_yaml(folder / "run.yaml").learning_rate == 2e-3
    cfg = json.loads((folder / "adapter" / "adapter_config.json").read_text())
    assert Path(cfg["base_model_name_or_path"], "config.json").exists()  # a local folder, loadable offline


def test_list_adapters_for_playground_and_arena(lora_run, root):
    rows = runs.list_adapters()
    row = next(r for r in rows if r["run_id"] == lora_run["run_id"])
    assert row == {"run_id": lora_run["run_id"], "label": "owl", "base_model": "smollm2-135m-instruct",
                   "adapter_path": lora_run["adapter_path"]}


RELOAD = r"""
import json, sys, torch
from transformers import AutoModelForCausalLM, AutoTokenizer
from peft import PeftModel
adapter, merged = sys.argv[1], sys.argv[2]
base_path = json.load(open(adapter + "/adapter_config.json"))["base_model_name_or_path"]
tok = AutoTokenizer.from_pretrained(adapter)
ids = tok.apply_chat_template([{"role": "user", "content": "What does LoRA stand for?"}],
                              add_generation_prompt=True, return_tensors="pt", return_dict=True)["input_ids"]
base = AutoModelForCausalLM.from_pretrained(base_path).eval()
with torch.no_grad():
    before = base(ids).logits[0, -1]
    tuned = PeftModel.from_pretrained(base, adapter).eval()
    after = tuned(ids).logits[0, -1]
    merged_logits = AutoModelForCausalLM.from_pretrained(merged).eval()(ids).logits[0, -1]
print(json.dumps({"diff": (after - before).abs().max().item(), "merge_err": (merged_logits - after).abs().max().item()}))
"""


def test_adapter_reloads_in_fresh_process_with_plain_peft_and_merges(lora_run):
    merged = runs.merge_and_export(lora_run["run_id"])
    assert Path(merged, "config.json").exists()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", RELOAD, lora_run["adapter_path"], merged], capture_output=True,
                         text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["diff"] > 1e-2  # the adapter changes the model's output
    assert result["merge_err"] < 1e-3  # merged weights = base + adapter
    assert any(t["model_path"] == merged for t in runs.list_tuned_models())


def test_stop_then_resume_from_checkpoint(runner):
    cfg = RunConfig(**TINY, data="completion_en", max_steps=5, save_steps=1, eval_fraction=0)
    run_id = runner.submit(cfg)
    folder = runs.run_dir(run_id, runner.root)
    deadline = time.time() + 600  # a deadline, not a duration: a busy machine loads the model slowly
    while not runs.latest_checkpoint(folder) and time.time() < deadline:
        time.sleep(0.05)
    assert runs.latest_checkpoint(folder), runs.log_tail(run_id, runner.root)
    # Freeze the process so the stop lands mid-run however fast the machine: the SIGTERM waits,
    # pending, and is the first thing it handles when it continues (4 of 5 steps still to go).
    pid = runs.read_status(folder)["pid"]
    os.killpg(pid, signal.SIGSTOP)
    try:
        runner.stop(run_id)
    finally:
        os.killpg(pid, signal.SIGCONT)
    status = runner.wait(run_id, timeout=60)
    assert status["state"] == "stopped" and status["reason"], status  # never skipped: it must stop
    stopped_at = int(Path(runs.latest_checkpoint(folder)).name.split("-")[1])
    assert stopped_at < cfg.max_steps  # stopped mid-run: the resume has steps left to do
    runner.resume(run_id)
    status = runner.wait(run_id, timeout=300)
    assert status["state"] == "finished", runs.log_tail(run_id, runner.root)
    records = progress.read(folder / "metrics.jsonl")
    starts = [r for r in records if r["type"] == "start"]
    assert len(starts) == 2 and starts[1]["step"] == stopped_at  # continued, did not restart at 0
    assert progress.summary(records)["step"] == cfg.max_steps


def test_killed_process_and_malformed_data_fail_with_reasons(runner, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"instruction": "hi", "output": "ok"}\n{"instruction": "no answer"}\n{oops\n', encoding="utf-8")
    doomed = runner.submit(RunConfig(**TINY, data="alpaca_en", max_steps=50))
    malformed = runner.submit(RunConfig(**TINY, data=str(bad), max_steps=2))
    queue = {row["run_id"]: row for row in runner.queue()}
    assert queue[doomed]["state"] == "running" and queue[malformed]["state"] == "queued"  # one heavy run at a time
    pid = None
    deadline = time.time() + 60
    while not pid and time.time() < deadline:
        pid = runs.read_status(runs.run_dir(doomed, runner.root)).get("pid")
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)
    status = runner.wait(doomed, timeout=60)
    assert status["state"] == "failed" and "SIGKILL" in status["reason"] and status["reason_zh"]
    status = runner.wait(malformed, timeout=120)
    assert status["state"] == "failed"
    assert "line 2" in status["reason"] and "line 3" in status["reason"] and "第 2 行" in status["reason_zh"]
    assert runner.running() == []  # the runner is free for the next run


def test_cli_run_survives_a_server_restart_and_fails_when_killed(tmp_path):
    """A foreground `llmlab finetune` run has no runner watching it: a server (re)starting must leave
    it running while it lives, and once it is SIGKILLed it must read failed, not running forever."""
    root = tmp_path / "runs"
    out = root / "cli-run"
    flags = config_mod.to_flags(RunConfig(**TINY), only=tuple(TINY))
    proc = subprocess.Popen([sys.executable, "-m", "apps", "finetune", *flags, "--data", "alpaca_en",
                             "--max-steps", "200", "--output", str(out)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 300  # imports and the cheap checks come first
        while runs.read_status(out).get("pid") != proc.pid and time.time() < deadline:
            time.sleep(0.1)
        assert runs.read_status(out).get("state") == "running"
        Runner(root)  # the server restarts and recovers the runs it finds
        assert runs.get_run("cli-run", root)["state"] == "running"
        assert [r["state"] for r in runs.list_runs(root)] == ["running"]
    finally:
        proc.kill()
        proc.wait()
    info = runs.get_run("cli-run", root)
    assert info["state"] == "failed" and "pid" in info["reason"]
    assert runs.read_status(out)["reason_zh"] and runs.read_status(out)["pid"] is None


def test_dpo_through_cli_reusing_a_config(lora_run, tmp_path):
    """`llmlab finetune --config run.yaml` with flags overriding: here a short LoRA DPO run."""
    out_dir = tmp_path / "dpo"
    cmd = [sys.executable, "-m", "apps", "finetune", "--config", str(Path(lora_run["folder"], "run.yaml")),
           "--objective", "dpo", "--data", "preference_en", "--learning-rate", "5e-5", "--max-steps", "2",
           "--eval-fraction", "0", "--output", str(out_dir), "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    status = json.loads(out.stdout[out.stdout.rindex("\n{\n"):])  # after the trainer's own log lines
    assert status["state"] == "finished"
    cfg = load_yaml(out_dir / "run.yaml")
    assert (cfg.objective, cfg.data, cfg.max_steps, cfg.lora_r) == ("dpo", "preference_en", 2, 8)
    losses = progress.summary(progress.read(out_dir / "metrics.jsonl"))["curves"]["loss"]
    assert len(losses) == 2 and abs(losses[0][1] - 0.6931) < 0.05  # DPO starts at -log σ(0) = ln 2
    assert (out_dir / "adapter" / "adapter_config.json").exists()


def test_try_it_compares_base_and_tuned_from_the_shared_cache(lora_run, cache):
    from apps.finetune.compare import compare, tuned_model

    rows = compare(cache, lora_run["run_id"], ["What does LoRA stand for?", " "], max_new_tokens=8, root=None)
    assert len(rows) == 1 and rows[0]["base"] and rows[0]["tuned"]
    tuned = tuned_model(cache, lora_run)
    assert type(tuned.model).__name__.startswith("PeftModel") and tuned.path == lora_run["base_path"]
