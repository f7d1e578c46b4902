"""Fine-tuning on a ZeroGPU Space (apps/space/zerotrain.py): the Runner drives the run through lent
calls of the runner's own train.main, in slices that resume from the last checkpoint, into the
owner's run folder. The Space is ZeroGPU (the `spaces` package's own switch) while `spaces.GPU`
itself reports no GPU, so the lent calls run on CPU, as the issue's test rule asks."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from apps.auth.users import User
from apps.errors import LabError
from apps.finetune import progress, runs
from apps.finetune.config import RunConfig
from apps.finetune.runner import Runner
from apps.space import zerotrain

pytestmark = pytest.mark.slow
OWNER, OTHER = User(id="hf-ada", name="ada"), User(id="hf-bob", name="bob")


@pytest.fixture
def zerogpu_space(monkeypatch):
    from spaces.config import Config

    monkeypatch.setattr(Config, "zero_gpu", True)
    assert zerotrain._lent_slice is zerotrain.train_slice  # declared while spaces reported no GPU: a plain call


def test_a_zerogpu_run_trains_in_slices_into_its_owners_folder(zerogpu_space, monkeypatch, tmp_path):
    monkeypatch.setattr(zerotrain, "SAVE_S", 10**6)  # every slice ends after its first step: 2 steps, 2 calls
    runner = Runner(tmp_path)
    cfg = RunConfig(model="smollm2-135m-instruct", method="lora", data="alpaca_en", max_steps=2, max_length=64,
                    batch_size=1, grad_accum=1, lora_r=4, lora_alpha=8, logging_steps=1, save_steps=100,
                    eval_fraction=0)
    run_id = runner.submit(cfg, user=OWNER)
    status = runner.wait(run_id, timeout=120)
    folder = tmp_path / run_id
    assert status["state"] == "finished", (status, runs.log_tail(run_id, tmp_path))
    log = (folder / "log.txt").read_text()
    calls = re.findall(r"ZeroGPU call: (\d+) s from step (\d+)", log)
    assert [int(step) for _, step in calls] == [0, 1] and all(0 < int(s) <= zerotrain.MAX_CALL_S for s, _ in calls)
    assert log.count("resuming from") == 1  # the second call continues from the previous slice's checkpoint
    m = runs.metrics(run_id, tmp_path, OWNER)
    assert m["step"] == 2 and [s for s, _ in m["curves"]["loss"]] == [1, 2]  # one curve across the slices
    info = runs.get_run(run_id, tmp_path, OWNER)
    assert info["owner"] == OWNER.id and Path(info["adapter_path"], "adapter_config.json").exists()
    assert not (folder / progress.STOP_FILE).exists()
    # another visitor cannot see, read, resume or stop it: answered as if it did not exist
    assert run_id not in [r["run_id"] for r in runs.list_runs(tmp_path, OTHER)]
    for attempt in (lambda: runs.get_run(run_id, tmp_path, OTHER), lambda: runs.metrics(run_id, tmp_path, OTHER),
                    lambda: runner.resume(run_id, user=OTHER), lambda: runner.stop(run_id, user=OTHER)):
        with pytest.raises(LabError) as err:
            attempt()
        assert err.value.key == "finetune.no_run"


def test_call_length_follows_the_remaining_steps_and_is_capped():
    assert zerotrain.call_seconds(1, 2.0) < zerotrain.call_seconds(20, 2.0) <= zerotrain.MAX_CALL_S
    assert zerotrain.call_seconds(10_000, 2.0) == zerotrain.MAX_CALL_S


def test_a_spent_quota_stops_the_run_and_says_why_in_both_languages(zerogpu_quota_spent, monkeypatch, tmp_path):
    monkeypatch.setattr(zerotrain, "_lent_slice", zerotrain.lend())  # declared again under the refusing `spaces`
    runner = Runner(tmp_path)
    run_id = runner.submit(RunConfig(model="smollm2-135m-instruct", method="lora", data="alpaca_en", max_steps=2),
                           user=OWNER)
    status = runner.wait(run_id, timeout=60)
    quota = LabError("space.gpu_quota")
    assert status["state"] == "stopped" and status["owner"] == OWNER.id
    assert (status["reason"], status["reason_zh"]) == (quota.message("en"), quota.message("zh"))
    assert not runs.latest_checkpoint(tmp_path / run_id)  # refused before anything ran


def test_stop_reaches_a_run_that_has_no_process_of_its_own(zerogpu_space, tmp_path):
    runner = Runner(tmp_path)
    run_id = runner.submit(RunConfig(model="smollm2-135m-instruct", method="lora", data="alpaca_en", max_steps=50,
                                     max_length=64, batch_size=1, grad_accum=1, lora_r=4, eval_fraction=0), user=OWNER)
    assert runner.stop(run_id, user=OWNER) == "stopping"  # the trainer sees the request at its next step
    status = runner.wait(run_id, timeout=60)
    assert status["state"] == "stopped" and not (tmp_path / run_id / progress.STOP_FILE).exists()
    assert runs.metrics(run_id, tmp_path, OWNER)["step"] < 50
