"""The memory estimate against a real run: train a few steps out of process on a shipped sample and
hold the estimate to ±30% of the process's measured peak resident set."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from apps.finetune.config import RunConfig, to_flags
from apps.finetune.estimate import estimate

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _high_water_mb(pid: int) -> float:
    """The peak resident set (VmHWM) of `pid` and its descendants, in MB. Not the kernel's ru_maxrss:
    a child forked from this test process starts that count at the parent's size (the whole suite's
    models), while VmHWM belongs to the address space the training program made after exec."""
    total = 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total = max(total, int(line.split()[1]) / 1024)
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total = max(total, _high_water_mb(int(child)))
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass  # the process ended between two reads
    return total


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
        peak = 0.0
        while proc.poll() is None:
            peak = max(peak, _high_water_mb(proc.pid))
            time.sleep(0.1)
    text = (tmp_path / "out.txt").read_text(errors="replace")
    assert proc.returncode == 0, text[-3000:]
    assert json.loads(text[text.rindex("\n{\n"):])["state"] == "finished"
    est = estimate(cfg, "cpu")
    assert abs(est["total_mb"] - peak) <= 0.3 * peak, (est["total_mb"], peak, est["parts_mb"])
