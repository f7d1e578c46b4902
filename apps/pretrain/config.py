"""What a pretraining run is: `PretrainConfig` (a `help` per field), YAML in and out, defaults per preset.

    cfg = PretrainConfig(corpus=["seeds-zh"], preset="tiny", max_steps=300)
    cfg = resolve(cfg, device="cpu")      # fills None fields from the preset and the step count
    save_yaml(cfg, "run.yaml"); load_yaml("run.yaml") == cfg
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import yaml

from apps.errors import LabError
from apps.finetune.config import write_atomic
from apps.pretrain import architecture
from apps.pretrain.tokenizer import MAX_VOCAB, MIN_VOCAB
from apps.userfiles import check_output_folder, read_text

RUNTIME_FIELDS = ("output", "resume")  # where a run lives and whether it continues: not in run.yaml


def _f(default, help: str, **kw):
    return field(default=default, metadata={"help": help, **kw})


@dataclass
class PretrainConfig:
    corpus: list[str] = _f(None, "text files or shipped corpora (lessons-zh, lessons-en, seeds-zh)")
    preset: str = _f("tiny", "model size: nano, micro, tiny (CPU minutes), small, base (GPU)")
    vocab_size: int = _f(2000, "BPE vocabulary size (256 bytes + merges + <|endoftext|>)")
    max_steps: int = _f(300, "optimizer steps")
    seed: int = _f(0, "random seed: data split, initial weights, batches")
    label: str = _f("", "a short name shown in run lists and the Playground")
    # architecture overrides (None: the preset's value)
    n_layers: int | None = _f(None, "transformer blocks")
    d_model: int | None = _f(None, "hidden size")
    n_heads: int | None = _f(None, "attention heads")
    n_kv_heads: int | None = _f(None, "key/value heads (grouped-query attention; = n_heads: plain multi-head)")
    d_ff: int | None = _f(None, "MLP inner size")
    context: int | None = _f(None, "tokens per training sequence (and the model's max positions)")
    batch_size: int | None = _f(None, "sequences per optimizer step")
    # optimisation
    learning_rate: float | None = _f(None, "peak AdamW learning rate (default: the preset's)")
    warmup_steps: int | None = _f(None, "linear warm-up steps before the cosine decay (default: 10% of steps)")
    min_lr_ratio: float = _f(0.1, "the cosine decays to this fraction of the peak LR")
    weight_decay: float = _f(0.1, "AdamW weight decay on matrices (not on norms)")
    grad_clip: float = _f(1.0, "clip the global gradient norm to this (0: off)")
    val_fraction: float = _f(0.1, "share of paragraphs held out for validation loss")
    eval_every: int | None = _f(None, "validation loss every N steps (default: 10 times per run)")
    save_every: int | None = _f(None, "checkpoint + samples every N steps (default: 4 times per run)")
    log_every: int | None = _f(None, "training-loss record every N steps (default: ~100 per run)")
    sample_tokens: int = _f(40, "tokens generated for each sample at a checkpoint")
    device: str = _f("auto", "auto, cpu or cuda")
    bf16: bool | None = _f(None, "bfloat16 autocast (default: on for CUDA GPUs that support it)")
    # runtime
    output: str = _f("", "the run folder, which becomes a Hugging Face model folder")
    resume: bool = _f(False, "continue from the newest checkpoint in the output folder")

    def recipe(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k not in RUNTIME_FIELDS}

    def shape(self) -> architecture.Shape:
        return architecture.preset(self.preset, **{k: getattr(self, k) for k in (
            "n_layers", "d_model", "n_heads", "n_kv_heads", "d_ff", "context", "batch_size", "learning_rate")})


def validate(cfg: PretrainConfig) -> PretrainConfig:
    """Cheap checks, before any data is read."""
    if not cfg.corpus:
        raise LabError("pretrain.no_corpus")
    if cfg.max_steps < 1:
        raise LabError("pretrain.bad_number", name="max_steps", value=cfg.max_steps)
    for name in ("eval_every", "save_every", "log_every", "warmup_steps"):
        value = getattr(cfg, name)
        if value is not None and value < (0 if name == "warmup_steps" else 1):
            raise LabError("pretrain.bad_number", name=name, value=value)
    if not 0 <= cfg.val_fraction < 0.5:
        raise LabError("pretrain.bad_number", name="val_fraction", value=cfg.val_fraction)
    if cfg.learning_rate is not None and not 0 < cfg.learning_rate < 1:
        raise LabError("pretrain.bad_number", name="learning_rate", value=cfg.learning_rate)
    if not MIN_VOCAB <= cfg.vocab_size <= MAX_VOCAB:
        raise LabError("pretrain.vocab_range", size=cfg.vocab_size, low=MIN_VOCAB, high=MAX_VOCAB)
    if cfg.output:
        check_output_folder(cfg.output)  # an existing file, or a parent that is one: refused now
    cfg.shape()  # unknown preset or an impossible shape
    return cfg


def resolve(cfg: PretrainConfig, device: str) -> PretrainConfig:
    """Fill the None fields: preset sizes, schedule intervals, bf16 for this device."""
    validate(cfg)
    shape, steps = cfg.shape(), cfg.max_steps
    values = {name: getattr(shape, name) for name in ("n_layers", "d_model", "n_heads", "n_kv_heads", "d_ff",
                                                       "context", "batch_size", "learning_rate")}
    values.update(warmup_steps=max(1, steps // 10), eval_every=max(1, steps // 10), save_every=max(1, steps // 4),
                  log_every=max(1, steps // 100))
    if device.startswith("cuda"):
        import torch

        values["bf16"] = torch.cuda.is_bf16_supported()
    else:
        values["bf16"] = False  # bf16 matmuls are slower than fp32 on most CPUs
    return replace(cfg, **{k: v for k, v in values.items() if getattr(cfg, k) is None})


def save_yaml(cfg: PretrainConfig, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "# LLM 0→1 Lab pretraining run. Reproduce: python -m apps.pretrain.train --config run.yaml --output DIR\n"
    write_atomic(path, text + yaml.safe_dump(cfg.recipe(), sort_keys=False, allow_unicode=True))
    return path


def load_yaml(path: str | Path) -> PretrainConfig:
    path = Path(path)
    if not path.exists():
        raise LabError("pretrain.no_config", path=str(path))
    try:
        raw = yaml.safe_load(read_text(path)) or {}
    except yaml.YAMLError as exc:
        raise LabError("pretrain.bad_config", path=str(path), reason=str(exc).splitlines()[0]) from exc
    known = {f.name for f in fields(PretrainConfig)}
    if not isinstance(raw, dict) or set(raw) - known:
        raise LabError("pretrain.bad_config", path=str(path), reason=f"unknown keys: {sorted(set(raw) - known)}")
    return validate(PretrainConfig(**raw))


def from_args(args) -> PretrainConfig:
    """Flags (apps.finetune.config.add_arguments(parser, PretrainConfig)) over an optional --config."""
    cfg = load_yaml(args.config) if getattr(args, "config", None) else PretrainConfig()
    overrides = {f.name: getattr(args, f.name) for f in fields(PretrainConfig) if getattr(args, f.name, None) is not None}
    return validate(replace(cfg, **overrides))
