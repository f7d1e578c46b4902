"""One training run: `main(cfg)` loads the model, the data and trains with trl; the run folder records it.

    python -m apps.finetune.train --config runs/<id>/run.yaml --output runs/<id> [--resume]
    python -m apps.finetune.train --model smollm2-135m-instruct --method lora --data alpaca_en --max-steps 10

This is what the runner starts in a subprocess (so a crash or OOM cannot take the app down) and what
`llmlab finetune` runs in the foreground. status.json tells the outcome: finished, failed (with the
reason in zh and en) or stopped (SIGTERM from the Stop button).
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from apps.errors import LabError
from apps.finetune import config as config_mod
from apps.finetune import data as data_mod
from apps.finetune import progress, runs, template
from apps.finetune.config import RunConfig


def prepare(cfg: RunConfig, owner: str = "", state: str = "queued") -> tuple[RunConfig, Path]:
    """Create (or reuse, for resume) the run folder: run.yaml, launch files, status. Returns the
    config with `output` set to the folder."""
    folder = Path(cfg.output) if cfg.output else runs.run_dir(runs.new_run_id(cfg))
    folder.mkdir(parents=True, exist_ok=True)
    cfg = replace(cfg, output=str(folder))
    if not (cfg.resume and (folder / "run.yaml").exists()):
        config_mod.save_yaml(cfg, folder / "run.yaml")
        runs.write_launch_files(folder, cfg)
    status = runs.read_status(folder)
    runs.write_status(folder, state=state, reason="", reason_zh="", owner=owner or status.get("owner", ""),
                      created=status.get("created", time.time()), run_id=folder.name)
    return cfg, folder


def _load_model(cfg: RunConfig, path: str, device: str):
    import torch
    from transformers import AutoModelForCausalLM

    if cfg.method == "qlora":
        # NF4 weights (4 bits + one absmax per 64-weight block, itself quantised: "double quant"),
        # compute in bf16/fp16; the LoRA adapters stay in higher precision (QLoRA, Dettmers et al. 2023).
        from transformers import BitsAndBytesConfig

        compute = torch.bfloat16 if cfg.bf16 else torch.float16
        quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                   bnb_4bit_compute_dtype=compute)
        model = AutoModelForCausalLM.from_pretrained(path, quantization_config=quant, dtype=compute,
                                                     device_map={"": torch.cuda.current_device()})
        from peft import prepare_model_for_kbit_training

        # casts norms to fp32 and enables input grads so checkpointed adapters receive gradients
        return prepare_model_for_kbit_training(model, use_gradient_checkpointing=bool(cfg.gradient_checkpointing))
    # LoRA on a GPU: frozen base in bf16 (peft keeps adapters in fp32). Full FT keeps fp32 master
    # weights and lets the Trainer autocast to bf16.
    dtype = torch.bfloat16 if (cfg.bf16 and cfg.method == "lora") else torch.float32
    return AutoModelForCausalLM.from_pretrained(path, dtype=dtype)


def check_method(cfg: RunConfig, device: str) -> None:
    """QLoRA needs CUDA and bitsandbytes: say so instead of silently training something else."""
    if cfg.method != "qlora":
        return
    if not device.startswith("cuda"):
        raise LabError("finetune.qlora_needs_cuda")
    import importlib.util

    if importlib.util.find_spec("bitsandbytes") is None:
        raise LabError("finetune.bnb_missing")


def check_output(path: str | Path | None) -> None:
    """A run or export folder we can create: its nearest existing ancestor is a writable folder."""
    if not path:
        return
    probe = Path(path).expanduser().absolute()
    if probe.exists() and not probe.is_dir():
        raise LabError("finetune.bad_out", path=str(path), why="not a folder")
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise LabError("finetune.bad_out", path=str(path), why=f"{probe} is not a writable folder")


def preflight(cfg: RunConfig) -> str:
    """Everything that can be checked in a second, before a model loads: device, method, output
    folder, data (every line), model and target modules. Returns the device. Raises LabError."""
    from apps.finetune.estimate import param_counts
    from apps.models.loading import model_dir, pick_device
    from apps.models.registry import resolve

    config_mod.validate(cfg)
    device = pick_device(cfg.device)
    check_method(cfg, device)
    check_output(cfg.output)
    data_mod.load(cfg.data, cfg.objective)
    try:
        counts = param_counts(model_dir(resolve(cfg.model)), cfg.lora_r, cfg.target_modules)
    except LabError:
        raise
    except Exception as exc:  # noqa: BLE001 - an offline hub id, a folder that is not a model…
        raise LabError("finetune.estimate_failed", model=cfg.model, reason=str(exc).splitlines()[0][:200]) from exc
    if cfg.method != "full" and cfg.target_modules != "all-linear":
        unknown = sorted({m.strip() for m in cfg.target_modules.split(",") if m.strip()} - set(counts["linear_names"]))
        if unknown or not counts["lora"]:
            raise LabError("finetune.bad_targets", names=", ".join(unknown) or cfg.target_modules,
                           choices=", ".join(counts["linear_names"]))
    return device


def _split(items: list, fraction: float, seed: int) -> tuple[list, list]:
    """Shuffle once with the seed, hold out `fraction` (at least 1) for eval when there are >= 5."""
    items = list(items)
    random.Random(seed).shuffle(items)
    n_eval = max(1, round(len(items) * fraction)) if fraction > 0 and len(items) >= 5 else 0
    return items[n_eval:], items[:n_eval]


def lora_targets(cfg: RunConfig):
    """"all-linear" or the comma list as a list of module names."""
    if cfg.target_modules == "all-linear":
        return cfg.target_modules
    return [m.strip() for m in cfg.target_modules.split(",") if m.strip()]


def trainer_args(cfg: RunConfig, folder: Path, device: str) -> dict:
    """The TrainingArguments every objective shares (trl's SFT/DPO/Reward configs take them all)."""
    return dict(
        output_dir=str(folder / "checkpoints"), max_steps=cfg.max_steps, num_train_epochs=cfg.epochs,
        per_device_train_batch_size=cfg.batch_size, per_device_eval_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum, learning_rate=cfg.learning_rate,
        lr_scheduler_type=cfg.lr_scheduler, warmup_steps=cfg.warmup_ratio, logging_steps=cfg.logging_steps,
        save_strategy="steps", save_steps=cfg.save_steps, save_total_limit=2, seed=cfg.seed,
        report_to="none", use_cpu=device == "cpu", bf16=bool(cfg.bf16), disable_tqdm=True,
        # non-reentrant checkpointing lets gradients reach adapters whose frozen inputs need no grad
        activation_checkpointing=bool(cfg.gradient_checkpointing),
        activation_checkpointing_kwargs={"use_reentrant": False} if cfg.gradient_checkpointing else None,
        max_length=cfg.max_length, dataloader_pin_memory=device != "cpu",
    )


def build_trainer(cfg: RunConfig, folder: Path, device: str, callbacks: list):
    """Model, data and trl trainer for a resolved config (no None fields left)."""
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoTokenizer

    from apps.models.loading import model_dir
    from apps.models.registry import resolve

    if cfg.objective == "reward":  # a scalar head on the model, trained on pairs (apps.align.reward)
        from apps.align import reward

        return reward.build_trainer(cfg, folder, device, callbacks, trainer_args(cfg, folder, device))
    dataset = data_mod.load(cfg.data, cfg.objective)
    path = model_dir(resolve(cfg.model))  # GGUF-born models: the converted safetensors folder
    runs.write_status(folder, base_path=path)
    # Base models have no chat template: train (and later prompt) with the plain one, saved with the adapter.
    tokenizer = template.for_training(AutoTokenizer.from_pretrained(path))
    print(f"data: {len(dataset)} examples ({dataset.fmt}) from {dataset.path}", flush=True)
    print(f"model: {cfg.model} from {path} on {device}", flush=True)
    model = _load_model(cfg, path, device)

    peft_config = None
    if cfg.method in ("lora", "qlora"):
        peft_config = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                                 target_modules=lora_targets(cfg), task_type="CAUSAL_LM")
    common = trainer_args(cfg, folder, device)
    if cfg.objective == "grpo":
        from apps.align import grpo

        return grpo.build_trainer(cfg, folder, common, model, tokenizer, peft_config, callbacks), tokenizer
    if cfg.objective == "dpo":
        from trl import DPOConfig, DPOTrainer

        train, held = _split(dataset.pairs, cfg.eval_fraction, cfg.seed)
        args = DPOConfig(**common, beta=cfg.beta, eval_strategy="steps" if held else "no", eval_steps=cfg.eval_steps)
        trainer_cls = DPOTrainer
    else:
        from trl import SFTConfig, SFTTrainer

        # Pre-tokenised with our own masks: trl uses `labels` as given (-100 = not trained), so the
        # loss covers exactly the tokens the data preview highlights.
        encoded = [data_mod.encode_chat(tokenizer, m, cfg.max_length) for m in dataset.sft]
        train, held = _split(encoded, cfg.eval_fraction, cfg.seed)
        args = SFTConfig(**common, eval_strategy="steps" if held else "no", eval_steps=cfg.eval_steps)
        trainer_cls = SFTTrainer
    trainer = trainer_cls(model=model, args=args, train_dataset=Dataset.from_list(train),
                          eval_dataset=Dataset.from_list(held) if held else None, processing_class=tokenizer,
                          peft_config=peft_config, callbacks=callbacks)
    return trainer, tokenizer


def _save(trainer, tokenizer, cfg: RunConfig, folder: Path) -> Path:
    """adapter/ (peft) or model/ (full), written to a temp folder and renamed into place."""
    target = folder / ("reward" if cfg.objective == "reward" else "model" if cfg.method == "full" else "adapter")
    tmp = Path(tempfile.mkdtemp(dir=folder, prefix=f".{target.name}-"))
    try:
        trainer.model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt  # unwinds the training loop; main() records the run as stopped


def main(cfg: RunConfig, until: float | None = None) -> dict:
    """Train one run; returns its final status dict. A bad config raises LabError before any folder
    is made; after that nothing raises: the status says failed with the reason (CLI exit code 1).
    `until` (time.time() seconds), for a run trained in slices (apps.space.zerotrain): checkpoint and
    return with state "running" and `steps` there, for the caller to resume; a progress.STOP_FILE in
    the folder stops it as SIGTERM does."""
    from apps.models.loading import pick_device

    started = time.time()
    # Resolved before the folder exists, so run.yaml holds every value the run used.
    device = pick_device(cfg.device)
    cfg, _why = config_mod.resolve_defaults(cfg, device)
    cfg, folder = prepare(cfg, state="running")
    runs.write_status(folder, **runs.process_id(), started=started, ended=None)
    try:
        check_method(cfg, device)
        metrics_path = folder / "metrics.jsonl"
        if not cfg.resume and metrics_path.exists():
            metrics_path.unlink()
        callback = progress.MetricsCallback(metrics_path, device, cfg.batch_size * cfg.grad_accum)
        cut = progress.SliceCallback(until, folder / progress.STOP_FILE) if until else None
        trainer, tokenizer = build_trainer(cfg, folder, device, [callback] + ([cut] if cut else []))
        checkpoint = runs.latest_checkpoint(folder) if cfg.resume else None
        print(f"training: {cfg.objective}/{cfg.method}, {cfg.max_steps} steps"
              + (f", resuming from {checkpoint}" if checkpoint else ""), flush=True)
        result = trainer.train(resume_from_checkpoint=checkpoint)
        if cut and cut.why == "stop":
            raise KeyboardInterrupt  # recorded as stopped, resumable from the checkpoint just saved
        if cut and cut.why == "slice":  # the call's time is up: the caller continues from the checkpoint
            return runs.write_status(folder, state="running", steps=result.global_step)
        target = _save(trainer, tokenizer, cfg, folder)
        _, peak = progress.memory_mb(device)
        final = {"train_loss": result.training_loss, "steps": result.global_step, "peak_mem_mb": round(peak, 1),
                 "train_runtime": result.metrics.get("train_runtime"),
                 "samples_per_s": result.metrics.get("train_samples_per_second")}
        if cfg.objective == "reward":  # held-out pairwise accuracy of the saved reward model
            from apps.align.reward import held_out_metrics

            final.update(held_out_metrics(trainer))
        print(f"saved {target}", flush=True)
        return runs.write_status(folder, state="finished", ended=time.time(), final=final, pid=None)
    except (KeyboardInterrupt, Exception) as exc:  # noqa: BLE001 - every end is recorded with its reason
        return runs.record_end(folder, exc)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m apps.finetune.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    config_mod.add_arguments(parser)
    return parser


def cli_main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        cfg = config_mod.from_args(build_parser().parse_args(argv))
    except LabError as exc:
        print(f"error: {exc.message(os.environ.get('LLMLAB_LANG', 'en'))}", file=sys.stderr)
        return 2
    status = main(cfg)
    print(f"run {status.get('run_id')}: {status.get('state')} {status.get('reason') or ''}".rstrip(), flush=True)
    return {"finished": 0, "stopped": 143}.get(status.get("state"), 1)


if __name__ == "__main__":
    raise SystemExit(cli_main())
