"""What a run is: `RunConfig` (one dataclass, a `help` per field), YAML in and out, flags that override.

A config left with `None` fields is filled by `resolve_defaults(cfg, device)`, which picks sensible
values per method and hardware and says why (`explain`), so the UI, the CLI and `run.yaml` agree:

    cfg = RunConfig(model="smollm2-135m-instruct", method="lora", data="alpaca_en")
    cfg, why = resolve_defaults(cfg, "cpu")       # why: {"learning_rate": "finetune.why.lr_lora", ...}
    save_yaml(cfg, "run.yaml"); load_yaml("run.yaml") == cfg
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import yaml

from apps.errors import LabError

METHODS = ("lora", "qlora", "full")
OBJECTIVES = ("sft", "dpo", "grpo", "reward")
DEVICES = ("auto", "cpu", "cuda")  # or "cuda:N"; anything else (tpu, mps…) is refused, never run on the CPU
# Where a run lives and whether it continues are not part of *what* is trained: they stay out of
# run.yaml, so `llmlab finetune --config run.yaml` makes a fresh run with the same recipe.
RUNTIME_FIELDS = ("output", "resume")


def _f(default, help: str, **kw):
    return field(default=default, metadata={"help": help, **kw})


@dataclass
class RunConfig:
    # model / method
    model: str = _f("smollm2-135m-instruct", "model to tune: registry name, local folder or hub id")
    method: str = _f("lora", "lora (small adapters), qlora (4-bit base + adapters, CUDA only) or full", choices=METHODS)
    objective: str = _f("sft", "sft (imitate answers), dpo (prefer chosen over rejected), reward (score replies, trained on pairs) "
                       "or grpo (RL on a reward)", choices=OBJECTIVES)
    data: str = _f("alpaca_en", "dataset: a shipped sample name (see `llmlab finetune samples`) or a .jsonl/.json path")
    label: str = _f("", "a short name shown in the Playground and the Arena")
    # schedule
    max_steps: int = _f(20, "optimizer steps to train (-1: use epochs)")
    epochs: float = _f(1.0, "passes over the data when max_steps is -1")
    learning_rate: float | None = _f(None, "peak learning rate (default: per method, see explain)")
    lr_scheduler: str = _f("cosine", "learning-rate schedule after warmup")
    warmup_ratio: float = _f(0.1, "fraction of steps spent warming the LR up from 0")
    batch_size: int | None = _f(None, "examples per device per forward pass")
    grad_accum: int | None = _f(None, "forward passes summed per optimizer step (effective batch = batch_size x grad_accum)")
    max_length: int | None = _f(None, "tokens per example; longer ones are cut")
    eval_fraction: float = _f(0.1, "share of examples held out for eval loss (0: none)")
    eval_steps: int | None = _f(None, "evaluate every N steps (default: 5 evals per run)")
    save_steps: int | None = _f(None, "checkpoint every N steps, for resume (default: per method)")
    logging_steps: int = _f(1, "log loss / LR every N steps")
    seed: int = _f(42, "random seed for init, shuffling and dropout")
    # LoRA
    lora_r: int = _f(16, "LoRA rank: size of the low-rank update (A: r x in, B: out x r)")
    lora_alpha: int = _f(32, "LoRA scale numerator: the update is multiplied by alpha / r")
    lora_dropout: float = _f(0.05, "dropout on the LoRA input during training")
    target_modules: str = _f("all-linear", "layers that get adapters: all-linear or a comma list (q_proj,v_proj)")
    # DPO
    beta: float = _f(0.1, "DPO temperature / GRPO KL weight: how far the policy may drift from the reference")
    # GRPO (apps/align/grpo.py)
    reward: str = _f("format", "GRPO reward: format | length:N | keyword:WORD | model:RUN (a reward-model run); join with +")
    num_generations: int = _f(4, "GRPO: replies sampled per prompt; each is scored against its group's mean")
    max_completion_length: int = _f(48, "GRPO: most tokens the policy writes per reply")
    # hardware
    device: str = _f("auto", "auto, cpu or cuda")
    bf16: bool | None = _f(None, "bfloat16 mixed precision (default: on for CUDA GPUs that support it)")
    gradient_checkpointing: bool | None = _f(None, "recompute activations to save memory (default: on for CUDA)")
    # runtime (not saved in run.yaml)
    output: str = _f("", "run folder (default: $LLMLAB_RUNS/<new id>)")
    resume: bool = _f(False, "continue from the newest checkpoint in the run folder")

    def recipe(self) -> dict:
        """The fields that define the training (what run.yaml holds)."""
        return {k: v for k, v in asdict(self).items() if k not in RUNTIME_FIELDS}


def validate(cfg: RunConfig) -> RunConfig:
    if cfg.method not in METHODS:
        raise LabError("finetune.bad_option", name="method", value=cfg.method, choices=", ".join(METHODS))
    if cfg.objective not in OBJECTIVES:
        raise LabError("finetune.bad_option", name="objective", value=cfg.objective, choices=", ".join(OBJECTIVES))
    for name in ("batch_size", "grad_accum", "max_length", "lora_r", "lora_alpha", "logging_steps", "num_generations",
                 "max_completion_length"):
        value = getattr(cfg, name)
        if value is not None and value < 1:
            raise LabError("finetune.bad_number", name=name, value=value)
    if cfg.max_steps == 0 or cfg.max_steps < -1:
        raise LabError("finetune.bad_number", name="max_steps", value=cfg.max_steps)
    if cfg.learning_rate is not None and not 0 < cfg.learning_rate < 1:
        raise LabError("finetune.bad_number", name="learning_rate", value=cfg.learning_rate)
    if not 0 <= cfg.eval_fraction < 1:
        raise LabError("finetune.bad_number", name="eval_fraction", value=cfg.eval_fraction)
    device = str(cfg.device)
    if device not in DEVICES and not (device.startswith("cuda:") and device[5:].isdigit()):
        raise LabError("finetune.bad_option", name="device", value=device, choices=", ".join(DEVICES) + ", cuda:N")
    if cfg.objective == "grpo":
        from apps.align.grpo import check_config

        check_config(cfg)  # reward spec and group size: before any model loads
    return cfg


def resolve_defaults(cfg: RunConfig, device: str) -> tuple[RunConfig, dict[str, str]]:
    """Fill `None` fields for this device; returns the config and {field: i18n key of the reason}."""
    cuda = device.startswith("cuda")
    why: dict[str, str] = {}
    values: dict = {}

    def pick(name, value, reason):
        if getattr(cfg, name) is None and name not in values:  # the first reason given wins
            values[name] = value
            why[name] = reason

    full = cfg.method == "full"
    if cfg.objective == "dpo":
        # DPO gradients are sharper (a log-ratio of two policies): an order of magnitude gentler.
        pick("learning_rate", 5e-6 if full else 5e-5, "finetune.why.lr_dpo")
    elif cfg.objective == "grpo":
        # RL on its own samples: small steps keep the policy near what it can already write.
        pick("learning_rate", 1e-6 if full else 5e-5, "finetune.grpo_why_lr")
        # every optimizer step scores whole groups: the batch is a multiple of num_generations
        pick("batch_size", cfg.num_generations, "finetune.grpo_why_batch")
        pick("grad_accum", 1, "finetune.grpo_why_batch")
    elif cfg.objective == "reward":
        # a fresh scalar head starts from nothing: with LoRA it needs larger steps than SFT to learn in few steps
        pick("learning_rate", 1e-5 if full else 1e-3, "finetune.why.lr_reward")
    else:
        pick("learning_rate", 2e-5 if full else 2e-4, "finetune.why.lr_full" if full else "finetune.why.lr_lora")
    pick("batch_size", 4 if cuda else 2, "finetune.why.batch_gpu" if cuda else "finetune.why.batch_cpu")
    pick("grad_accum", 4 if cuda else 2, "finetune.why.accum")
    pick("max_length", 1024 if cuda else 256, "finetune.why.len_gpu" if cuda else "finetune.why.len_cpu")
    pick("bf16", bool(cuda and _bf16_ok()), "finetune.why.bf16_gpu" if cuda else "finetune.why.bf16_cpu")
    # On CPU, checkpointing only trades time for memory we have plenty of (and breaks some CPU paths).
    pick("gradient_checkpointing", cuda, "finetune.why.ckpt_gpu" if cuda else "finetune.why.ckpt_cpu")
    # A full checkpoint of a model (weights + 2 Adam moments) is 3x its size: save rarely.
    pick("save_steps", 200 if full else 10, "finetune.why.save_full" if full else "finetune.why.save_lora")
    steps = cfg.max_steps if cfg.max_steps > 0 else 100
    pick("eval_steps", max(1, steps // 5), "finetune.why.eval")
    if cfg.method != "full":
        why.setdefault("lora_r", "finetune.why.rank")
        why.setdefault("target_modules", "finetune.why.targets")
    if cfg.method == "qlora":
        why["method"] = "finetune.why.qlora"
    return validate(replace(cfg, **values)), why


def _bf16_ok() -> bool:
    import torch

    return torch.cuda.is_available() and torch.cuda.is_bf16_supported()


def save_yaml(cfg: RunConfig, path: str | Path) -> Path:
    """Write the recipe atomically (temp file + rename), with a header saying how to reproduce it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "# LLM 0→1 Lab fine-tuning run. Reproduce: llmlab finetune --config run.yaml\n"
    text += yaml.safe_dump(cfg.recipe(), sort_keys=False, allow_unicode=True)
    write_atomic(path, text)
    return path


def load_yaml(path: str | Path) -> RunConfig:
    path = Path(path)
    if not path.exists():
        raise LabError("finetune.no_config", path=str(path))
    if not path.is_file():
        raise LabError("finetune.bad_config", path=str(path), reason="not a file")
    try:
        raw = yaml.safe_load(read_text(path)) or {}
    except yaml.YAMLError as exc:
        raise LabError("finetune.bad_config", path=str(path), reason=str(exc).splitlines()[0]) from exc
    if not isinstance(raw, dict):
        raise LabError("finetune.bad_config", path=str(path), reason="expected key: value lines")
    known = {f.name: f for f in fields(RunConfig)}
    unknown = sorted(map(str, set(raw) - set(known)))
    if unknown:
        raise LabError("finetune.bad_config", path=str(path), reason=f"unknown keys: {', '.join(unknown)}")
    for name, value in raw.items():
        kind = str(known[name].type)
        if value is not None and not _type_ok(kind, value):
            raise LabError("finetune.bad_config", path=str(path), reason=f"{name}: {value!r} is not {kind}")
    return validate(RunConfig(**raw))


def _type_ok(kind: str, value) -> bool:
    if "bool" in kind:
        return isinstance(value, bool)
    if "int" in kind:
        return isinstance(value, int) and not isinstance(value, bool)
    if "float" in kind:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, str)


def read_text(path: str | Path) -> str:
    """A user's text file (UTF-8, a BOM allowed); a binary or otherwise encoded one is a LabError."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LabError("finetune.not_text", path=str(path), offset=exc.start) from exc
    if "\x00" in text:  # valid UTF-8 but binary all the same
        raise LabError("finetune.not_text", path=str(path), offset=text.index("\x00"))
    return text


def write_atomic(path: str | Path, text: str) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


# ---- flags: one per field, generated so the CLI and `python -m apps.finetune.train` never drift ----

def _parse_bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {text!r}")


def add_arguments(parser: argparse.ArgumentParser, cls=None) -> None:
    """`--config FILE` plus `--<field>` for every field of `cls` (a config dataclass with a `help`
    per field; default RunConfig); flags default to None (= not given)."""
    parser.add_argument("--config", help="run.yaml to start from (flags below override it)")
    for f in fields(cls or RunConfig):
        flag = "--" + f.name.replace("_", "-")
        kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "str")
        if f.name == "resume":
            parser.add_argument(flag, action="store_true", default=None, help=f.metadata["help"])
            continue
        if kind.startswith("list"):
            parser.add_argument(flag, nargs="+", default=None, help=f.metadata["help"], metavar=f.name.upper())
            continue
        conv = _parse_bool if "bool" in kind else int if "int" in kind else float if "float" in kind else str
        parser.add_argument(flag, type=conv, default=None, choices=f.metadata.get("choices"),
                            help=f.metadata["help"], metavar=f.name.upper())


def from_args(args: argparse.Namespace) -> RunConfig:
    cfg = load_yaml(args.config) if getattr(args, "config", None) else RunConfig()
    overrides = {f.name: getattr(args, f.name) for f in fields(RunConfig) if getattr(args, f.name, None) is not None}
    return validate(dataclasses.replace(cfg, **overrides))


def to_flags(cfg: RunConfig, only: tuple[str, ...] = RUNTIME_FIELDS) -> list[str]:
    """Command-line flags for the given fields (the runner passes output/resume this way)."""
    flags = []
    for name in only:
        value = getattr(cfg, name)
        if name == "resume":
            flags += ["--resume"] if value else []
        elif value not in (None, ""):
            flags += ["--" + name.replace("_", "-"), str(value)]
    return flags
