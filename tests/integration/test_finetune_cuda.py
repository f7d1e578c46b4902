"""On a CUDA machine: QLoRA (4-bit NF4 base + LoRA) and bf16 LoRA train and save standard adapters."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from apps.finetune import train
from apps.finetune.config import RunConfig

pytestmark = [pytest.mark.cuda, pytest.mark.slow]


@pytest.mark.parametrize("method", ["qlora", "lora"])
def test_gpu_run_finishes_with_bf16_and_an_adapter(method, tmp_path):
    status = train.main(RunConfig(model="smollm2-135m-instruct", method=method, data="alpaca_en", max_steps=4,
                                  max_length=128, eval_fraction=0, output=str(tmp_path / method)))
    assert status["state"] == "finished", status.get("reason")
    cfg = json.loads(Path(tmp_path, method, "adapter", "adapter_config.json").read_text())
    assert Path(cfg["base_model_name_or_path"], "config.json").exists()
    assert status["final"]["peak_mem_mb"] > 0
    from apps.finetune.config import load_yaml

    assert load_yaml(tmp_path / method / "run.yaml").bf16 is True  # bf16 chosen on GPUs that support it
