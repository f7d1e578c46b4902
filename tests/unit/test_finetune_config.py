"""RunConfig: YAML round trip, flags overriding a config, explained defaults per device."""
from __future__ import annotations

import argparse

import pytest

from apps.errors import LabError
from apps.finetune import config
from apps.finetune.config import RunConfig


def parse(argv):
    parser = argparse.ArgumentParser()
    config.add_arguments(parser)
    return config.from_args(parser.parse_args(argv))


def test_yaml_round_trip_keeps_the_recipe_not_the_location(tmp_path):
    cfg = RunConfig(model="gemma-3-270m", method="full", data="alpaca_zh", learning_rate=3e-5, label="中文",
                    output=str(tmp_path / "x"), resume=True)
    path = config.save_yaml(cfg, tmp_path / "run.yaml")
    assert path.read_text(encoding="utf-8").startswith("# LLM 0→1 Lab")
    back = config.load_yaml(path)
    assert back == RunConfig(**{**cfg.recipe()}) and back.output == "" and back.resume is False


def test_flags_override_the_config(tmp_path):
    config.save_yaml(RunConfig(max_steps=7, lora_r=4, data="messages_en"), tmp_path / "run.yaml")
    cfg = parse(["--config", str(tmp_path / "run.yaml"), "--max-steps", "3", "--learning-rate", "1e-4",
                 "--bf16", "false", "--output", "somewhere"])
    assert (cfg.max_steps, cfg.learning_rate, cfg.bf16, cfg.lora_r, cfg.data, cfg.output) == \
        (3, 1e-4, False, 4, "messages_en", "somewhere")
    assert parse(["--resume"]).resume is True
    assert config.to_flags(cfg) == ["--output", "somewhere"]


def test_defaults_depend_on_method_and_device_and_are_explained():
    cpu, why = config.resolve_defaults(RunConfig(method="lora"), "cpu")
    assert (cpu.learning_rate, cpu.bf16, cpu.gradient_checkpointing, cpu.max_length) == (2e-4, False, False, 256)
    assert why["learning_rate"] == "finetune.why.lr_lora" and "batch_size" in why
    full, _ = config.resolve_defaults(RunConfig(method="full"), "cpu")
    assert full.learning_rate == 2e-5 and full.save_steps > cpu.save_steps
    dpo, why = config.resolve_defaults(RunConfig(objective="dpo"), "cpu")
    assert dpo.learning_rate < cpu.learning_rate and why["learning_rate"] == "finetune.why.lr_dpo"
    gpu, _ = config.resolve_defaults(RunConfig(), "cuda")
    assert gpu.gradient_checkpointing is True and gpu.max_length == 1024
    kept, why = config.resolve_defaults(RunConfig(learning_rate=1e-3), "cpu")
    assert kept.learning_rate == 1e-3 and "learning_rate" not in why
    from apps.i18n import table

    assert all(key in table() for key in why.values())


@pytest.mark.parametrize("bad", [dict(method="prefix"), dict(max_steps=0), dict(learning_rate=5.0), dict(batch_size=0)])
def test_bad_values_are_refused(bad):
    with pytest.raises(LabError):
        config.validate(RunConfig(**bad))


def test_unknown_keys_in_a_config_file_are_named(tmp_path):
    (tmp_path / "run.yaml").write_text("model: x\nlearnig_rate: 0.1\n")
    with pytest.raises(LabError) as err:
        config.load_yaml(tmp_path / "run.yaml")
    assert "learnig_rate" in err.value.message("en")
