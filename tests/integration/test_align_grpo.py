"""GRPO through the fine-tuning runner on the CPU with SmolLM2: a few RL steps in a subprocess that
write reward, KL and sample replies to metrics.jsonl, stop and resume from a checkpoint, and the
tuned adapter entering its owner's Arena (and nobody else's)."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from apps.align import grpo, rewards
from apps.arena import contestants
from apps.auth.users import User
from apps.errors import LabError
from apps.finetune import progress, runs
from apps.finetune.config import RunConfig, load_yaml
from apps.finetune.runner import Runner

pytestmark = pytest.mark.slow
ANN = User(id="c1-u1", name="Ann", class_id=1)
BOB = User(id="c1-u2", name="Bob", class_id=1)
# Two 8-token replies per prompt; a length reward always separates them, so every step has an
# advantage to learn from and the KL to the reference leaves 0 after the first update.
TINY = dict(model="smollm2-135m-instruct", method="lora", objective="grpo", data="prompts_zh", reward="length:40",
            num_generations=2, max_completion_length=8, batch_size=2, grad_accum=1, learning_rate=5e-3,
            beta=0.1, lora_r=8, lora_alpha=16, logging_steps=1, save_steps=1, label="rl-poet")
STEPS = 3


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("grpo-runs")


@pytest.fixture(scope="module")
def stopped_then_finished(root):
    """One run, stopped after its first checkpoint and resumed to the end (one model load each)."""
    runner = Runner(root)
    try:
        run_id = runner.submit(RunConfig(**TINY, max_steps=STEPS), user=ANN)
        folder = runs.run_dir(run_id, root)
        deadline = time.time() + 900  # a deadline, not a duration: a crowded CPU loads slowly
        while not runs.latest_checkpoint(folder) and time.time() < deadline:
            time.sleep(0.05)
        assert runs.latest_checkpoint(folder), runs.log_tail(run_id, root)
        pid = runs.read_status(folder)["pid"]
        os.killpg(pid, signal.SIGSTOP)  # the stop lands mid-run however fast the machine
        try:
            runner.stop(run_id, user=ANN)
        finally:
            os.killpg(pid, signal.SIGCONT)
        stopped = runner.wait(run_id, timeout=120)
        stopped_at = int(Path(runs.latest_checkpoint(folder)).name.split("-")[1])
        runner.resume(run_id, user=ANN)
        finished = runner.wait(run_id, timeout=900)
        assert finished["state"] == "finished", runs.log_tail(run_id, root)
        yield {"run_id": run_id, "folder": folder, "stopped": stopped, "stopped_at": stopped_at}
    finally:
        runner.shutdown()


def test_grpo_steps_write_reward_kl_and_samples(stopped_then_finished):
    folder = stopped_then_finished["folder"]
    records = progress.read(folder / "metrics.jsonl")
    m = progress.summary(records)
    assert m["step"] == m["total_steps"] == STEPS
    curves = m["curves"]
    assert sorted({s for s, _ in curves["reward"]}) == list(range(1, STEPS + 1))  # a resumed step may log twice
    assert all(0 <= r <= 1 for _, r in curves["reward"]) and len(curves["reward_std"]) >= STEPS
    assert len(curves["kl"]) >= STEPS and abs(curves["kl"][0][1]) < 1e-6  # step 1: the policy is the reference
    assert curves["kl"][-1][1] > 0  # after updates the LoRA policy has moved away from it
    assert len(curves["loss"]) >= STEPS
    replies = m["samples"]
    assert len(replies) == 2 and all(set(r) == {"prompt", "reply", "reward"} for r in replies)
    assert replies[0]["prompt"] in (grpo.PROMPTS_DIR / "prompts_zh.jsonl").read_text(encoding="utf-8")
    # the logged reward is what our reward function gives these replies
    fn = rewards.build("length:40")[0]
    assert [r["reward"] for r in replies] == [round(x, 4) for x in fn(None, [r["reply"] for r in replies])]
    assert load_yaml(folder / "run.yaml").reward == "length:40"


def test_grpo_stop_and_resume_continue_from_the_checkpoint(stopped_then_finished):
    assert stopped_then_finished["stopped"]["state"] == "stopped"
    starts = [r for r in progress.read(stopped_then_finished["folder"] / "metrics.jsonl") if r["type"] == "start"]
    assert len(starts) == 2 and starts[1]["step"] == stopped_then_finished["stopped_at"] >= 1


def test_grpo_adapter_enters_its_owners_arena_only(stopped_then_finished, root):
    run_id = stopped_then_finished["run_id"]
    mine = contestants.for_user(contestants.TUNED + run_id, ANN, root)
    assert mine.kind == contestants.ADAPTER and Path(mine.adapter, "adapter_config.json").exists()
    assert mine.model == "smollm2-135m-instruct" and "rl-poet" in mine.label
    assert (contestants.TUNED + run_id) in [spec for _, _, spec in contestants.tuned_choices(ANN, root)]
    assert (contestants.TUNED + run_id) not in [spec for _, _, spec in contestants.tuned_choices(BOB, root)]
    with pytest.raises(LabError):
        contestants.for_user(contestants.TUNED + run_id, BOB, root)
    with pytest.raises(LabError):  # nor by its folder
        contestants.for_user(f"smollm2-135m-instruct+{mine.adapter}", BOB, root)


def test_a_reward_model_run_is_its_owners_only(stopped_then_finished, root):
    """model:RUN names a run id; another student naming it (or a server path) is refused at submit."""
    runner = Runner(root)
    run_id = stopped_then_finished["run_id"]  # any run folder stands in for a reward model here
    for spec in (f"model:{run_id}", f"model:{stopped_then_finished['folder']}"):
        with pytest.raises(LabError):
            runner.submit(RunConfig(**{**TINY, "reward": spec}, max_steps=1), user=BOB)
    assert [r["run_id"] for r in runs.list_runs(root)] == [run_id]  # nothing was queued


def test_the_tab_shows_reward_kl_and_replies(stopped_then_finished, root):
    from apps.finetune.view import status_markdown

    run_id = stopped_then_finished["run_id"]
    replies = runs.metrics(run_id, root, ANN)["samples"]
    for lang, word in (("zh", "奖励"), ("en", "reward")):
        md = status_markdown(run_id, lang, root, ANN)
        assert word in md and "KL" in md and replies[0]["prompt"] in md, md
