"""Pretraining throughput: the lab's training loop vs the same model trained by a plain transformers Trainer.

    .venv/bin/python bench/pretrain.py [--steps 60] [--preset tiny] [--corpus seeds-zh]

Both runs train the same Llama config (the lab's output folder's config.json, fresh weights, same
seed), the same tokenizer and token stream, batch, context, LR schedule, clipping and steps, each in
a fresh process. Throughput is measured the same way on both sides: training tokens between the end
of step 1 (warm-up excluded) and the end of the last step, divided by the time between them (the
lab's final eval and samples, and the Trainer's save, fall outside). JSON out: tokens/s of each and
`ratio` = lab / Trainer (> 1: the lab is faster). The 1-minute load average is printed too, since
this machine is shared.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PLAIN_TRAINER = r"""
import json, sys, time, torch
from datasets import Dataset
from transformers import (AutoConfig, AutoModelForCausalLM, AutoTokenizer, Trainer, TrainerCallback,
                          TrainingArguments, default_data_collator)
from apps.pretrain import corpus, tokenizer as tk
folder, items, steps, batch, context, lr, out = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]), sys.argv[7]
tok = AutoTokenizer.from_pretrained(folder)
ids = tk.encode_docs(tok, corpus.build(items, 0.1, 0).train)           # the same token stream
blocks = [ids[i:i + context] for i in range(0, len(ids) - context, context)]  # run_clm's group_texts
data = Dataset.from_dict({"input_ids": blocks, "labels": blocks})
torch.manual_seed(0)
model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(folder))
marks = {}
class Clock(TrainerCallback):
    def on_step_end(self, args, state, control, **kw):
        marks.setdefault(1, time.time()) if state.global_step == 1 else marks.__setitem__(state.global_step, time.time())
args = TrainingArguments(output_dir=out, max_steps=steps, per_device_train_batch_size=batch, learning_rate=lr,
                         lr_scheduler_type="cosine", warmup_steps=max(1, steps // 10), weight_decay=0.1,
                         adam_beta2=0.95, max_grad_norm=1.0, logging_steps=max(1, steps // 10), save_strategy="no",
                         report_to="none", use_cpu=not torch.cuda.is_available(), disable_tqdm=True, seed=0,
                         dataloader_pin_memory=False)
trainer = Trainer(model=model, args=args, train_dataset=data, data_collator=default_data_collator, callbacks=[Clock()])
result = trainer.train()
last = max(marks)
print("RESULT " + json.dumps({"tokens_per_s": (last - 1) * batch * context / (marks[last] - marks[1]),
                              "train_runtime": result.metrics["train_runtime"], "final_loss": result.training_loss}))
"""


def run_lab(items: list[str], preset: str, steps: int, folder: Path) -> dict:
    cmd = [sys.executable, "-m", "apps.pretrain.train", "--corpus", *items, "--preset", preset, "--max-steps", str(steps),
           "--save-every", str(steps), "--eval-every", str(steps), "--log-every", str(max(1, steps // 10)),
           "--output", str(folder)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=1800)
    status = json.loads((folder / "status.json").read_text())
    if status.get("state") != "finished":
        raise RuntimeError(f"lab run failed: {status.get('reason')}\n{out.stderr[-2000:]}")
    logs = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    logs = [r for r in logs if r.get("type") == "log" and "loss" in r]
    first, last = logs[0], logs[-1]  # step 1 and the last step
    return {"tokens_per_s": (last["tokens_seen"] - first["tokens_seen"]) / (last["time"] - first["time"]),
            "train_seconds": status["final"]["train_seconds"], "final_loss": status["final"]["final_loss"],
            "first_loss": status["final"]["first_loss"]}


def run_trainer(folder: Path, items: list[str], steps: int, batch: int, context: int, lr: float, out: Path) -> dict:
    cmd = [sys.executable, "-c", PLAIN_TRAINER, str(folder), ",".join(items), str(steps), str(batch), str(context),
           str(lr), str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=1800,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"Trainer run failed:\n{done.stderr[-3000:]}")
    return json.loads(line[7:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=60, help="optimizer steps per run")
    parser.add_argument("--preset", default="tiny", help="model size preset")
    parser.add_argument("--corpus", nargs="+", default=None, help="corpus (default: seeds-zh, else lessons-zh)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from apps.pretrain import architecture, corpus

    items = args.corpus or (["seeds-zh"] if "seeds-zh" in corpus.shipped() else ["lessons-zh"])
    shape = architecture.preset(args.preset)
    with tempfile.TemporaryDirectory() as tmp:
        lab_dir = Path(tmp) / "lab"
        lab = run_lab(items, args.preset, args.steps, lab_dir)
        plain = run_trainer(lab_dir, items, args.steps, shape.batch_size, shape.context, shape.learning_rate,
                            Path(tmp) / "trainer")
    print(json.dumps({"preset": args.preset, "corpus": items, "steps": args.steps, "batch": shape.batch_size,
                      "context": shape.context, "lab": lab, "trainer": plain,
                      "ratio": round(lab["tokens_per_s"] / plain["tokens_per_s"], 3),
                      "load_avg_1min": round(os.getloadavg()[0], 2)}, indent=2))


if __name__ == "__main__":
    main()
