"""Checkpoints, samples and the final export of a pretraining run.

    checkpoints/checkpoint-<step>/  model.safetensors + config.json (save_pretrained), optimizer.pt
                                    (AdamW moments, LR schedule, batch RNG, counters), trainer_state.json
                                    (written last: its presence marks a complete checkpoint, the same
                                    rule apps.finetune.runs.latest_checkpoint applies to Trainer runs)

Each checkpoint is written to a hidden temp folder and renamed into place, so a run killed while
saving leaves the previous checkpoint intact; only the newest KEEP checkpoints are kept.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from apps.finetune.config import write_atomic

KEEP = 2


def save(folder: Path, model, opt, sched, generator, state: dict) -> Path:
    import torch

    root = folder / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    target = root / f"checkpoint-{state['step']}"
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=f".{target.name}-"))
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        torch.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                    "generator": generator.get_state(), "state": state}, tmp / "optimizer.pt")
        (tmp / "trainer_state.json").write_text(json.dumps({"global_step": state["step"], **state}))
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    done = sorted((p for p in root.glob("checkpoint-*") if (p / "trainer_state.json").exists()),
                  key=lambda p: int(p.name.split("-")[-1]))
    for old in done[:-KEEP]:
        shutil.rmtree(old, ignore_errors=True)
    return target


def load(ckpt: str | Path, opt, sched, generator) -> dict:
    """Restore optimizer, schedule and batch RNG in place; returns the saved counters."""
    import torch

    saved = torch.load(Path(ckpt) / "optimizer.pt", weights_only=False)
    opt.load_state_dict(saved["optimizer"])
    sched.load_state_dict(saved["scheduler"])
    generator.set_state(saved["generator"])
    return dict(saved["state"])


def rewrite_metrics(path: Path, records: list[dict]) -> None:
    """Drop records past the checkpoint a resumed run restarts from (they will be logged again)."""
    if path.exists():
        write_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))


def samples(model, tokenizer, prompts: list[str], max_new_tokens: int, device: str, seed: int) -> list[dict]:
    """[{"prompt", "text"}]: a short sampled continuation of each prompt (temperature 0.8, top-k 40,
    a fixed seed so successive checkpoints differ only because the weights did)."""
    import torch

    out = []
    model.eval()
    try:
        for i, prompt in enumerate(prompts):
            ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)["input_ids"].to(device)
            ids = ids[:, -(model.config.max_position_embeddings // 2):]
            torch.manual_seed(seed + i)
            room = model.config.max_position_embeddings - ids.shape[1]  # RoPE was trained this far only
            with torch.no_grad():
                gen = model.generate(ids, max_new_tokens=min(max_new_tokens, room), do_sample=True, temperature=0.8, top_k=40,
                                     pad_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id)
            out.append({"prompt": prompt, "text": tokenizer.decode(gen[0, ids.shape[1]:], skip_special_tokens=True)})
    finally:
        model.train()
    return out


def export(folder: Path, model, tokenizer) -> None:
    """Save the trained model at the top of the run folder; config.json is moved in last, so a
    folder with config.json (what the lab's model registry looks for) always has its weights."""
    tmp = Path(tempfile.mkdtemp(dir=folder, prefix=".model-"))
    try:
        model.generation_config.pad_token_id = tokenizer.eos_token_id
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        names = sorted(p.name for p in tmp.iterdir())
        for name in [n for n in names if n != "config.json"] + ["config.json"]:
            os.replace(tmp / name, folder / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
