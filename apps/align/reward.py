"""Reward models: train one on preference pairs (trl RewardTrainer, a scalar head on a lab model) and
score replies with it.

Training is a fine-tuning objective, run by the fine-tuning runner like any other run (owner, queue,
stop, resume, metrics.jsonl):

    llmlab finetune --objective reward --data prefs.jsonl --model smollm2-135m-instruct --max-steps 40

A reward run folder holds run.yaml, status.json, metrics.jsonl (loss, eval_accuracy = held-out
pairwise accuracy, eval_margin …), log.txt, checkpoints/ and reward/: a peft adapter (LoRA: the
adapters plus the `score` head) or a full AutoModelForSequenceClassification (full), with its tokenizer.

    scorer = load_scorer("runs/<id>")                       # the run folder, or its reward/ folder
    scorer(["Say hi"], ["Hello! How can I help?"])          # -> [float], higher = preferred
    score("runs/<id>", "Say hi", "Go away.")                # one reply

Training and scoring encode a pair the same way (`encode`): the chat template rendered over the
prompt and the reply, cut from the left to `max_length` tokens so the reply's end (where the head
reads) is always kept.
"""
from __future__ import annotations

import functools
import json
import threading
from pathlib import Path

from apps.errors import LabError

REWARD_DIR = "reward"  # inside a run folder
DEFAULT_MAX_LENGTH = 256


def _messages(prompt) -> list[dict]:
    """A prompt as chat messages: a string is one user turn; a list of messages is taken as is."""
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    return [{"role": m["role"], "content": m["content"]} for m in prompt]


def _reply(reply) -> str:
    """A reply as text: a string, or the content of the last message of a list (trl's conversational
    completions are [{"role": "assistant", "content": ...}])."""
    if isinstance(reply, str):
        return reply
    return str(reply[-1]["content"]) if reply else ""


def encode(tokenizer, prompt, reply, max_length: int) -> list[int]:
    """Token ids (T,) of prompt + reply in the chat template, T <= max_length, keeping the end."""
    from apps.finetune.data import render

    text = render(tokenizer, _messages(prompt) + [{"role": "assistant", "content": _reply(reply)}])
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    return ids[-max_length:]


# ---- training (called by apps.finetune.train for objective "reward") ----

def load_model(path: str, num_labels: int = 1):
    """A sequence-classification model with `num_labels` outputs on a lab model folder. The score
    head is new (random); fp32 on CPU."""
    import torch
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=num_labels, dtype=torch.float32)
    # A GGUF-born model carries a quantizer that blocks training and save_pretrained (weights are
    # already dequantised): drop it, as apps.models.loading does.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    return model


def build_trainer(cfg, folder: Path, device: str, callbacks: list, common: dict):
    """trl RewardTrainer for a resolved RunConfig with objective "reward"; `common` are the
    TrainingArguments every objective shares (apps.finetune.train.trainer_args)."""
    from datasets import Dataset
    from peft import LoraConfig, TaskType
    from transformers import AutoTokenizer
    from trl import RewardConfig, RewardTrainer

    from apps.finetune import data as data_mod
    from apps.finetune import runs, template
    from apps.finetune.train import _split
    from apps.models.loading import model_dir
    from apps.models.registry import resolve

    dataset = data_mod.load(cfg.data, cfg.objective)
    path = model_dir(resolve(cfg.model))
    runs.write_status(folder, base_path=path)
    tokenizer = template.for_training(AutoTokenizer.from_pretrained(path))
    print(f"data: {len(dataset.pairs)} preference pairs from {dataset.path}", flush=True)
    print(f"model: {cfg.model} from {path} on {device}, scalar head (reward model)", flush=True)
    model = load_model(path)
    model.config.pad_token_id = tokenizer.pad_token_id  # the head reads the last non-pad token

    def tokenized(pair):  # pre-tokenised: the trainer uses exactly what `score` will see
        prompt = pair["prompt"]
        return {"chosen_ids": encode(tokenizer, prompt, pair["chosen"], cfg.max_length),
                "rejected_ids": encode(tokenizer, prompt, pair["rejected"], cfg.max_length)}

    train, held = _split([tokenized(p) for p in dataset.pairs], cfg.eval_fraction, cfg.seed)
    peft_config = None
    if cfg.method in ("lora", "qlora"):
        targets = cfg.target_modules if cfg.target_modules == "all-linear" else [
            m.strip() for m in cfg.target_modules.split(",") if m.strip()]
        # SEQ_CLS makes peft train and save the new `score` head in full next to the adapters
        peft_config = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                                 target_modules=targets, task_type=TaskType.SEQ_CLS)
    args = RewardConfig(**common, eval_strategy="steps" if held else "no", eval_steps=cfg.eval_steps)
    trainer = RewardTrainer(model=model, args=args, train_dataset=Dataset.from_list(train),
                            eval_dataset=Dataset.from_list(held) if held else None, processing_class=tokenizer,
                            peft_config=peft_config, callbacks=callbacks)
    return trainer, tokenizer


def held_out_metrics(trainer) -> dict:
    """Final held-out pairwise accuracy (share of held-out pairs whose chosen reply scores higher)
    and mean margin; evaluate() also logs them as an eval line of metrics.jsonl. {} without a split."""
    if trainer.eval_dataset is None:
        return {}
    result = trainer.evaluate()
    return {k: result[k] for k in ("eval_accuracy", "eval_margin", "eval_loss") if k in result}


# ---- scoring ----

def reward_folder(path: str | Path) -> Path:
    """The folder holding the reward model: `path` itself or `path`/reward/. LabError otherwise."""
    path = Path(path).expanduser()
    for folder in (path / REWARD_DIR, path):
        if (folder / "adapter_config.json").is_file() or (folder / "config.json").is_file():
            return folder
    raise LabError("align.no_reward_model", path=str(path))


def _max_length(folder: Path) -> int:
    """The run's max_length when the folder is a run's reward/ (run.yaml next to it)."""
    from apps.finetune.config import load_yaml

    run_yaml = folder.parent / "run.yaml"
    if run_yaml.is_file():
        try:
            return load_yaml(run_yaml).max_length or DEFAULT_MAX_LENGTH
        except LabError:
            pass
    return DEFAULT_MAX_LENGTH


def _load(folder: Path):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from apps.models.loading import _quiet_transformers

    _quiet_transformers()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    adapter_cfg = folder / "adapter_config.json"
    if adapter_cfg.is_file():
        from peft import PeftModel

        from transformers.utils import logging as hf_logging

        base_path = json.loads(adapter_cfg.read_text(encoding="utf-8"))["base_model_name_or_path"]
        # the base's load report calls the score head "missing": it is, until the adapter brings it
        level = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()
        try:
            base = load_model(base_path)
        finally:
            hf_logging.set_verbosity(level)
        base.config.pad_token_id = tokenizer.pad_token_id
        model = PeftModel.from_pretrained(base, folder)
    else:
        model = AutoModelForSequenceClassification.from_pretrained(folder, dtype=torch.float32)
    if getattr(model.config, "num_labels", 1) != 1:
        raise LabError("align.no_reward_model", path=str(folder))
    model.config.pad_token_id = tokenizer.pad_token_id
    return model.eval(), tokenizer


class Scorer:
    """A loaded reward model: `scorer(prompts, completions) -> list[float]`, the signature trl's
    GRPOTrainer expects of a reward function (extra keyword arguments are ignored). Thread-safe."""

    def __init__(self, path: str | Path, batch_size: int = 8):
        self.folder = reward_folder(path)
        self.max_length = _max_length(self.folder)
        self.batch_size = batch_size
        self.model, self.tokenizer = _load(self.folder)
        self._lock = threading.Lock()
        self.__name__ = f"reward_model:{self.folder.parent.name}"  # trl logs a reward function by its name

    def __call__(self, prompts: list, completions: list, **_kwargs) -> list[float]:
        import torch

        if len(prompts) != len(completions):
            raise LabError("align.bad_batch", prompts=len(prompts), completions=len(completions))
        ids = [encode(self.tokenizer, p, c, self.max_length) for p, c in zip(prompts, completions)]
        pad = self.tokenizer.pad_token_id
        out: list[float] = []
        with self._lock, torch.inference_mode():
            for i in range(0, len(ids), self.batch_size):
                chunk = ids[i:i + self.batch_size]
                width = max(len(x) for x in chunk)
                # right padding: the head reads the last non-pad token of each row
                input_ids = torch.tensor([x + [pad] * (width - len(x)) for x in chunk])
                mask = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x in chunk])
                logits = self.model(input_ids=input_ids, attention_mask=mask).logits  # (B, 1)
                out += logits[:, 0].float().tolist()
        return out


def load_scorer(path: str | Path) -> Scorer:
    """A reward model from a reward run folder (or its reward/ folder) as callable(prompts,
    completions) -> list[float]. Prompts: strings or message lists; completions: strings or
    [{"role": "assistant", "content": ...}]."""
    return Scorer(path)


def score_batch(path_or_scorer, prompts: list, replies: list) -> list[float]:
    scorer = path_or_scorer if isinstance(path_or_scorer, Scorer) else load_scorer(path_or_scorer)
    return scorer(prompts, replies)


def score(path_or_scorer, prompt, reply) -> float:
    """The reward of one reply to one prompt (a float; only differences between replies mean anything)."""
    return score_batch(path_or_scorer, [prompt], [reply])[0]


def reward_runs(user, root: Path | None = None) -> list[dict]:
    """The finished reward runs `user` may use, newest first: [{"run_id", "label", "eval_accuracy"}]
    (what a "score with my reward model" picker offers)."""
    from apps.finetune import runs

    return [{"run_id": r["run_id"], "label": r["label"], "eval_accuracy": r["final"].get("eval_accuracy")}
            for r in runs.list_runs(root, user)
            if r["objective"] == "reward" and r["state"] == "finished" and (Path(r["folder"]) / REWARD_DIR).is_dir()]


def scorer_for_run(run_id: str, user, root: Path | None = None) -> Scorer:
    """A web user's scorer: `run_id` must be a finished reward run they may reach (their own, or
    their class's for a teacher); the path comes from the run store, never from the request."""
    from apps.finetune import runs

    info = runs.get_run(run_id, root, user)
    if info["objective"] != "reward" or info["state"] != "finished":
        raise LabError("align.no_reward_model", path=run_id)
    folder = reward_folder(info["folder"])
    return _kept_scorer(str(folder), folder.stat().st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _kept_scorer(folder: str, mtime_ns: int) -> Scorer:
    """One loaded scorer per finished reward model (the Playground scores many replies with the same
    one); its folder's mtime is in the key, so a re-trained run loads afresh."""
    return load_scorer(folder)
