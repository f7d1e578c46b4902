"""One pretraining run: corpus → tokenizer → a fresh Llama-style model → AdamW loop → a model folder.

    python -m apps.pretrain.train --corpus seeds-zh --preset tiny --max-steps 300 --output out/zh-tiny
    python -m apps.pretrain.train --config runs/pretrain/<id>/run.yaml --output runs/pretrain/<id> [--resume]

The runner (apps.finetune.runner.Runner with module="apps.pretrain.train") starts the second form
in a subprocess; `llmlab pretrain` runs `main(cfg)` in the foreground. The loop is written out
(nanoGPT-style) rather than hidden in a Trainer, so every step is visible: random windows of
context+1 tokens → logits → cross-entropy on the next token → clip → AdamW → LR schedule.
The output folder is the run folder and a Hugging Face model folder at once: config.json,
model.safetensors and the tokenizer sit at its top, next to run.yaml, status.json, metrics.jsonl.
"""
from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from apps.errors import LabError
from apps.finetune import progress, runs
from apps.pretrain import checkpoint, corpus as corpus_mod, tokenizer as tok_mod
from apps.pretrain import config as config_mod
from apps.pretrain.config import PretrainConfig

FINAL_WINDOW = 10  # final_loss = mean training loss of the last 10 steps (one batch is noisy)


@dataclass
class Data:
    tokenizer: object
    train: object  # torch.long (N_train,): every training document + EOS, concatenated
    val: object  # torch.long (N_val,)
    report: dict
    prompts: list[str]


def build_data(cfg: PretrainConfig, folder: Path | None = None) -> Data:
    """Clean + dedup + split, train (or, on resume, reload) the tokenizer, encode. Raises LabError
    for an empty/binary corpus, a vocabulary the corpus cannot fill, a context longer than the data."""
    import torch
    from transformers import AutoTokenizer

    corpus = corpus_mod.build(cfg.corpus, cfg.val_fraction, cfg.seed)
    if cfg.resume and folder and (folder / "tokenizer.json").exists():
        tokenizer = AutoTokenizer.from_pretrained(folder)  # the ids the checkpoint was trained on
    else:
        tokenizer = tok_mod.train(corpus.train, cfg.vocab_size)
    train = tok_mod.encode_docs(tokenizer, corpus.train)
    val = tok_mod.encode_docs(tokenizer, corpus.val)
    context = cfg.shape().context
    if len(train) < context + 1:
        raise LabError("pretrain.context_too_long", context=context, tokens=len(train))
    report = dict(corpus.report, train_tokens=len(train), val_tokens=len(val), vocab_size=len(tokenizer),
                  chars_per_token=round(corpus.report["train_chars"] / max(1, len(train)), 3))
    # Sample prompts: the opening words of held-out paragraphs, so they are in the corpus's language.
    prompts = [_opening(p) for p in (corpus.val or corpus.train)[:2]]
    return Data(tokenizer, torch.tensor(train, dtype=torch.long), torch.tensor(val, dtype=torch.long), report, prompts)


def _opening(text: str) -> str:
    words = text.split()
    if len(words) > 3 and len(words[0]) < 15:  # space-separated language: two words
        return " ".join(words[:2])
    return text[:4]


def lr_factor(step: int, cfg: PretrainConfig) -> float:
    """Multiplier on the peak LR: linear warm-up from 0, then cosine down to min_lr_ratio."""
    if step < cfg.warmup_steps:
        return (step + 1) / cfg.warmup_steps
    span = max(1, cfg.max_steps - cfg.warmup_steps)
    progress_ = min(1.0, (step - cfg.warmup_steps) / span)
    return cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress_))


def get_batch(ids, batch: int, context: int, generator, device: str):
    """x, y: long (B, T): B random windows of T+1 tokens; y is x shifted by one (the next token)."""
    import torch

    starts = torch.randint(len(ids) - context, (batch,), generator=generator)
    windows = torch.stack([ids[s:s + context + 1] for s in starts.tolist()])
    return windows[:, :-1].to(device), windows[:, 1:].to(device)


def evaluate(model, ids, batch: int, context: int, device: str, max_batches: int = 8) -> float | None:
    """Mean next-token loss over fixed consecutive windows of the validation stream (same windows
    every time, so the curve moves only because the model does)."""
    import torch
    import torch.nn.functional as F

    if len(ids) < 2:
        return None
    t = min(context, len(ids) - 1)
    n = min(max_batches * batch, (len(ids) - 1) // t)
    windows = torch.stack([ids[i * t:i * t + t + 1] for i in range(n)])
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for chunk in windows.split(batch):
            x, y = chunk[:, :-1].to(device), chunk[:, 1:].to(device)
            logits = model(input_ids=x, use_cache=False).logits
            total += F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), y.reshape(-1), reduction="sum").item()
            count += y.numel()
    model.train()
    return total / count


def prepare(cfg: PretrainConfig, owner: str = "", state: str = "queued") -> tuple[PretrainConfig, Path]:
    """Create (or reuse, for resume) the run folder: run.yaml and status.json."""
    folder = Path(cfg.output).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    cfg = replace(cfg, output=str(folder))
    if not (cfg.resume and (folder / "run.yaml").exists()):
        config_mod.save_yaml(cfg, folder / "run.yaml")
    status = runs.read_status(folder)
    runs.write_status(folder, state=state, reason="", reason_zh="", owner=owner or status.get("owner", ""),
                      created=status.get("created", time.time()), run_id=folder.name, kind="pretrain",
                      label=cfg.label or folder.name, preset=cfg.preset)
    return cfg, folder


def train_loop(cfg: PretrainConfig, data: Data, folder: Path, device: str) -> dict:
    import torch
    import torch.nn.functional as F
    from transformers import LlamaForCausalLM

    from apps.pretrain import architecture

    metrics_path = folder / "metrics.jsonl"
    eos = data.tokenizer.eos_token_id
    ckpt = runs.latest_checkpoint(folder) if cfg.resume else None
    torch.manual_seed(cfg.seed)  # the initial weights
    if ckpt:
        model = LlamaForCausalLM.from_pretrained(ckpt, dtype=torch.float32)
    else:
        model = LlamaForCausalLM(architecture.llama_config(cfg.shape(), len(data.tokenizer), eos))
    model.to(device).train()
    # Weight decay on matrices only: decaying norm gains or the embedding's scale would fight the loss.
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": cfg.weight_decay},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=cfg.learning_rate, betas=(0.9, 0.95), eps=1e-8)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(s, cfg))
    gen = torch.Generator().manual_seed(cfg.seed)
    state = {"step": 0, "tokens_seen": 0, "first_loss": None, "val_loss": None}
    if ckpt:
        state = checkpoint.load(ckpt, opt, sched, gen)
        progress_records = [r for r in progress.read(metrics_path) if r.get("step", 0) <= state["step"]]
        checkpoint.rewrite_metrics(metrics_path, progress_records)
        print(f"resuming from {ckpt} at step {state['step']}", file=sys.stderr, flush=True)
    elif metrics_path.exists():
        metrics_path.unlink()
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if cfg.bf16 and device.startswith("cuda") else None
    n_params = sum(p.numel() for p in params)
    b, t = cfg.batch_size, cfg.context
    progress.append(metrics_path, {"type": "start", "time": time.time(), "total_steps": cfg.max_steps,
                                   "step": state["step"], "device": device, "params": n_params, "data": data.report})
    t0 = last_t = time.time()
    first_step = last_step = state["step"]
    window: list[float] = []
    recent: list[float] = []
    while state["step"] < cfg.max_steps:
        x, y = get_batch(data.train, b, t, gen, device)
        if amp:
            with amp:
                logits = model(input_ids=x, use_cache=False).logits
        else:
            logits = model(input_ids=x, use_cache=False).logits
        loss = F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), y.reshape(-1))  # nats / token
        opt.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip if cfg.grad_clip > 0 else float("inf"))
        opt.step()
        sched.step()
        state["step"] += 1
        state["tokens_seen"] += b * t
        step, value = state["step"], loss.item()
        if state["first_loss"] is None:
            state["first_loss"] = value
        window.append(value)
        recent = (recent + [value])[-FINAL_WINDOW:]
        if step % cfg.log_every == 0 or step in (1, cfg.max_steps):
            now = time.time()
            done = step - first_step
            mem, peak = progress.memory_mb(device)
            mean = sum(window) / len(window)
            progress.append(metrics_path, {
                "type": "log", "time": now, "step": step, "total_steps": cfg.max_steps, "elapsed_s": now - t0,
                "eta_s": (now - t0) / done * (cfg.max_steps - step), "loss": mean, "ppl": math.exp(min(mean, 50)),
                "learning_rate": sched.get_last_lr()[0], "grad_norm": float(norm),
                "tokens_per_s": (step - last_step) * b * t / max(1e-9, now - last_t),
                "samples_per_s": (step - last_step) * b / max(1e-9, now - last_t),
                "tokens_seen": state["tokens_seen"], "mem_mb": round(mem, 1), "peak_mem_mb": round(peak, 1)})
            window, last_t, last_step = [], now, step
        if step % cfg.eval_every == 0 or step == cfg.max_steps:
            state["val_loss"] = evaluate(model, data.val, b, t, device)
            if state["val_loss"] is not None:
                progress.append(metrics_path, {"type": "log", "time": time.time(), "step": step,
                                               "total_steps": cfg.max_steps, "eval_loss": state["val_loss"],
                                               "val_ppl": math.exp(min(state["val_loss"], 50))})
        if step % cfg.save_every == 0 or step == cfg.max_steps:
            for sample in checkpoint.samples(model, data.tokenizer, data.prompts, cfg.sample_tokens, device, cfg.seed):
                progress.append(metrics_path, {"type": "sample", "time": time.time(), "step": step, **sample})
            if step < cfg.max_steps:
                checkpoint.save(folder, model, opt, sched, gen, state)
    seconds = time.time() - t0
    final = {"first_loss": state["first_loss"], "final_loss": sum(recent) / len(recent) if recent else None,
             "val_loss": state["val_loss"], "params": n_params, "tokens_seen": state["tokens_seen"],
             "steps": state["step"], "tokens_per_s": (state["step"] - first_step) * b * t / max(1e-9, seconds),
             "train_seconds": seconds}
    progress.append(metrics_path, {"type": "end", "time": time.time(), "step": state["step"], "elapsed_s": seconds,
                                   "eta_s": 0, "total_steps": cfg.max_steps,
                                   "train_loss": final["final_loss"], "train_runtime": seconds, **final})
    checkpoint.export(folder, model, data.tokenizer)
    return final


def _stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt  # unwinds the loop; main() records the run as stopped


def main(cfg: PretrainConfig, data: Data | None = None, owner: str = "") -> dict:
    """Train one run; returns its status dict (final metrics under "final"). Bad settings raise
    LabError before the folder is touched when `data` was built by the caller; after that nothing
    raises: the status says failed with the reason."""
    from apps.models.loading import _quiet_transformers, pick_device

    _quiet_transformers()
    started = time.time()
    device = pick_device(cfg.device)
    cfg = config_mod.resolve(cfg, device)
    if not cfg.output:
        raise LabError("pretrain.no_output")
    cfg, folder = prepare(cfg, owner=owner, state="running")
    runs.write_status(folder, pid=os.getpid(), started=started, ended=None)
    try:
        data = data or build_data(cfg, folder)
        data.tokenizer.model_max_length = cfg.context  # what the lab's generation checks prompts against
        if not (cfg.resume and (folder / "tokenizer.json").exists()):
            data.tokenizer.save_pretrained(folder)
        print(f"data: {data.report}", file=sys.stderr, flush=True)
        print(f"model: {cfg.preset} {cfg.n_layers}x{cfg.d_model}, vocab {len(data.tokenizer)}, context "
              f"{cfg.context}, batch {cfg.batch_size}, {cfg.max_steps} steps on {device}", file=sys.stderr, flush=True)
        final = train_loop(cfg, data, folder, device)
        final.update(seconds=round(time.time() - started, 2), output=str(folder), data=data.report)
        print(f"saved {folder}", file=sys.stderr, flush=True)
        return runs.write_status(folder, state="finished", ended=time.time(), final=final, pid=None)
    except (KeyboardInterrupt, Exception) as exc:  # noqa: BLE001 - every end is recorded with its reason
        return runs.record_end(folder, exc)


def build_parser() -> argparse.ArgumentParser:
    from apps.finetune.config import add_arguments

    parser = argparse.ArgumentParser(prog="python -m apps.pretrain.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser, PretrainConfig)
    return parser


def cli_main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        cfg = config_mod.from_args(build_parser().parse_args(argv))
    except LabError as exc:
        print(f"error: {exc.message(os.environ.get('LLMLAB_LANG', 'en'))}", file=sys.stderr)
        return 2
    status = main(cfg)
    print(f"run {status.get('run_id')}: {status.get('state')} {status.get('reason') or ''}".rstrip(), file=sys.stderr, flush=True)
    return {"finished": 0, "stopped": 143}.get(status.get("state"), 1)


if __name__ == "__main__":
    raise SystemExit(cli_main())
