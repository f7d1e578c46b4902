"""The memory estimate against a real run: train a few steps out of process on a shipped sample and
hold the estimate to ±30% of the process's measured peak resident set."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from apps.finetune.config import RunConfig, to_flags
from apps.finetune.estimate import estimate

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("model", ["smollm2-135m-instruct"])
def test_cpu_estimate_within_30_percent_of_measured_peak(model, tmp_path):
    cfg = RunConfig(model=model, method="lora", data="alpaca_en", max_steps=3, max_length=64, batch_size=1,
                    grad_accum=1, eval_fraction=0, save_steps=100, device="cpu")
    flags = to_flags(cfg, only=("model", "method", "data", "max_steps", "max_length", "batch_size", "grad_accum",
                                "eval_fraction", "save_steps", "device"))
    log = open(tmp_path / "out.txt", "wb")
    with log:
        proc = subprocess.Popen([sys.executable, "-m", "apps", "finetune", *flags, "--output", str(tmp_path / "run"),
                                 "--json"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, "LLMLAB_RUNS": str(tmp_path)})
        _pid, code, usage = os.wait4(proc.pid, 0)  # the kernel's accounting for this one child
    proc.returncode = os.waitstatus_to_exitcode(code)
    text = (tmp_path / "out.txt").read_text(errors="replace")
    assert proc.returncode == 0, text[-3000:]
    assert json.loads(text[text.rindex("\n{\n"):])["state"] == "finished"
    peak = usage.ru_maxrss / 1024  # Linux: kilobytes → MB
    est = estimate(cfg, "cpu")
    assert abs(est["total_mb"] - peak) <= 0.3 * peak, (est["total_mb"], peak, est["parts_mb"])
