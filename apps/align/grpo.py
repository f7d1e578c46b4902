"""GRPO (Group Relative Policy Optimization) for the fine-tuning stage: `objective: grpo` in a run.

The policy writes `num_generations` replies to each prompt; each reply's advantage is its reward
minus its group's mean (divided by the group's std), and the loss pushes up the log-probability of
better-than-average replies while a KL term (weight `beta`) holds the policy near the reference
model (with LoRA: the same weights, adapters off). No value network, unlike PPO (Shao et al. 2024).

It runs through the fine-tuning runner like any run (owner, queue, stop, resume, metrics.jsonl):

    llmlab finetune --objective grpo --data prompts_en --reward keyword:cat --max-steps 20
    python -m apps.finetune.train --objective grpo --data prompts_zh --reward "format+length:40"

Prompts: the shipped prompts_en / prompts_zh ({"prompt": "..."} lines), or any fine-tuning dataset
(its answers are dropped: the policy writes its own). Every logging step adds reward (mean, std),
kl, loss to metrics.jsonl and a {"type": "samples"} record with a few replies and their rewards.
"""
from __future__ import annotations

import json
from pathlib import Path

from apps.errors import LabError

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "curriculum" / "data" / "align"
SAMPLES_SHOWN = 4  # replies kept per logging step for the view


def samples() -> dict[str, Path]:
    """Shipped prompt sets, name → path (prompts_en, prompts_zh)."""
    return {p.stem: p for p in sorted(PROMPTS_DIR.glob("prompts_*.jsonl"))}


def check_config(cfg) -> None:
    """Cheap checks of a grpo RunConfig (called from config.validate): the reward spec and a batch
    that holds whole groups. Raises LabError."""
    from apps.align import rewards

    rewards.check(cfg.reward)
    if cfg.num_generations < 2:  # one reply per prompt has no group to be compared with
        raise LabError("finetune.grpo_bad_group", n=cfg.num_generations, batch="-")
    if cfg.batch_size is not None and cfg.grad_accum is not None:
        batch = cfg.batch_size * cfg.grad_accum
        if batch % cfg.num_generations:
            raise LabError("finetune.grpo_bad_group", n=cfg.num_generations, batch=batch)


def load_prompts(data: str):
    """A fine-tuning `Dataset` whose `sft` holds prompts (chat message lists ending with the user's
    turn). Accepts {"prompt": text | messages} lines and every format apps.finetune.data reads."""
    from apps.finetune import data as data_mod

    path = samples().get(str(data).strip()) or data_mod.resolve_path(data)
    prompts, fmts, problems = [], [], []
    for n, obj in data_mod._records(path):
        if isinstance(obj, json.JSONDecodeError):
            problems.append((n, "finetune.data.bad_json", {"why": obj.msg}))
            continue
        if isinstance(obj, dict) and set(obj) <= {"prompt", "system"} and "prompt" in obj:
            msgs = data_mod._as_messages(obj.get("prompt"), "user")
            fmt, value = ("prompt", msgs) if msgs else (None, ("finetune.data.missing", {"fields": "prompt", "fmt": "prompt"}))
        else:
            fmt, value = data_mod.parse_example(obj)
            if fmt == "preference":
                value = value["prompt"]
            elif fmt is not None:
                value = value[:-1]  # drop the answer
        if fmt is None:
            problems.append((n, *value))
            continue
        fmts += [fmt] if fmt not in fmts else []
        prompts.append(value)
    if problems:
        raise data_mod.DatasetError(str(path), problems)
    if not prompts:
        raise LabError("finetune.empty_data", path=str(path))
    return data_mod.Dataset(path=str(path), fmt="+".join(fmts), sft=prompts, pairs=[])


class SampleRecorder:
    """Wraps the reward functions so the latest batch's prompts, replies and total rewards are kept
    for the metrics file (trl keeps its own table only for wandb/rich)."""

    def __init__(self, funcs: list):
        self.latest: list[dict] = []
        self.funcs = [self._wrap(f, i) for i, f in enumerate(funcs)]

    def _wrap(self, func, index: int):
        from apps.align.rewards import text_of

        def recorded(prompts, completions, **kw):
            scores = func(prompts=prompts, completions=completions, **kw)
            if index == 0:  # trl calls the functions in order on the same batch
                self.latest = [{"prompt": text_of(p[-1:] if isinstance(p, list) else p), "reply": text_of(c),
                                "reward": round(float(s), 4)} for p, c, s in zip(prompts, completions, scores)]
            else:  # later functions add their share to the total shown
                for row, s in zip(self.latest, scores):
                    row["reward"] = round(row["reward"] + float(s), 4)
            return scores

        recorded.__name__ = getattr(func, "__name__", "reward").removesuffix("_reward")
        return recorded


def samples_callback(path: Path, recorder: SampleRecorder):
    from transformers import TrainerCallback

    from apps.finetune import progress

    class SamplesCallback(TrainerCallback):
        """After each log record: {"type": "samples", "step", "samples": [{prompt, reply, reward}]}."""

        def on_log(self, args, state, control, logs=None, **kwargs):
            if recorder.latest and logs and "reward" in logs:
                progress.append(path, {"type": "samples", "step": state.global_step,
                                       "samples": recorder.latest[:SAMPLES_SHOWN]})

    return SamplesCallback()


def build_trainer(cfg, folder: Path, common: dict, model, tokenizer, peft_config, callbacks: list):
    """trl's GRPOTrainer for a resolved grpo RunConfig; `common` = the Trainer arguments train.py
    builds for every objective (CPU: use_cpu, no bf16, no checkpointing)."""
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    from apps.align import rewards
    from apps.finetune import data as data_mod

    prompts = data_mod.load(cfg.data, "grpo").sft
    recorder = SampleRecorder(rewards.build(cfg.reward))
    common = {k: v for k, v in common.items() if k != "max_length"}  # replies are capped instead
    args = GRPOConfig(**common, num_generations=cfg.num_generations, max_completion_length=cfg.max_completion_length,
                      beta=cfg.beta, eval_strategy="no", log_completions=False)
    callbacks = list(callbacks) + [samples_callback(folder / "metrics.jsonl", recorder)]
    return GRPOTrainer(model=model, reward_funcs=recorder.funcs, args=args,
                       train_dataset=Dataset.from_list([{"prompt": p} for p in prompts]),
                       processing_class=tokenizer, peft_config=peft_config, callbacks=callbacks)
