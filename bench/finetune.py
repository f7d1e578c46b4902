"""Fine-tuning throughput and memory: the lab's harness vs the same training as a plain trl script.

    .venv/bin/python bench/finetune.py [--steps 8] [--max-length 128] [--model smollm2-135m-instruct]

For each method (LoRA, full; QLoRA too on a CUDA machine) it trains the same data, steps, batch and
length twice, each in a fresh process: once through `python -m apps.finetune.train` (run folder,
metrics callback, status, masking) and once as a bare trl SFTTrainer script. It prints JSON with
samples/s (the Trainer's own train_samples_per_second, model loading excluded), peak memory (RSS on
CPU, CUDA allocator on GPU) and `harness_overhead_pct` = how much slower the lab is (target < 5%).
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

PLAIN_TRL = r"""
import json, resource, sys, torch
from datasets import Dataset
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig
from trl import SFTConfig, SFTTrainer
from apps.finetune import data
path, method, steps, max_length, batch, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
cuda = torch.cuda.is_available()
rows = [{"messages": m} for m in data.load("alpaca_en").sft]   # the same examples, as a user would pass them
kw = {}
if method == "qlora":
    kw = dict(quantization_config=BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
              bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=torch.bfloat16), device_map={"": 0})
model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.bfloat16 if cuda and method != "full" else torch.float32, **kw)
args = SFTConfig(output_dir=out, max_steps=steps, per_device_train_batch_size=batch, gradient_accumulation_steps=1,
                 learning_rate=2e-4 if method != "full" else 2e-5, logging_steps=1, save_strategy="no", report_to="none",
                 use_cpu=not cuda, bf16=cuda, max_length=max_length, disable_tqdm=True, seed=42,
                 gradient_checkpointing=cuda,  # the lab's default; trl's own (always on) would recompute on CPU too
                 lr_scheduler_type="cosine", warmup_steps=0.1)
peft = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules="all-linear", task_type="CAUSAL_LM") if method != "full" else None
trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=AutoTokenizer.from_pretrained(path), peft_config=peft)
metrics = trainer.train().metrics
peak = torch.cuda.max_memory_allocated() / 2**20 if cuda else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("RESULT " + json.dumps({"samples_per_s": metrics["train_samples_per_second"], "peak_mem_mb": round(peak, 1)}))
"""


def run_harness(model: str, method: str, steps: int, max_length: int, batch: int, folder: Path) -> dict:
    cmd = [sys.executable, "-m", "apps.finetune.train", "--model", model, "--method", method, "--data", "alpaca_en",
           "--max-steps", str(steps), "--max-length", str(max_length), "--batch-size", str(batch), "--grad-accum", "1",
           "--eval-fraction", "0", "--save-steps", "100000", "--output", str(folder)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=1800)
    status = json.loads((folder / "status.json").read_text())
    if status.get("state") != "finished":
        raise RuntimeError(f"harness run failed: {status.get('reason')}\n{out.stdout[-2000:]}{out.stderr[-2000:]}")
    return {"samples_per_s": status["final"]["samples_per_s"], "peak_mem_mb": status["final"]["peak_mem_mb"]}


def run_plain(path: str, method: str, steps: int, max_length: int, batch: int, folder: Path) -> dict:
    cmd = [sys.executable, "-c", PLAIN_TRL, path, method, str(steps), str(max_length), str(batch), str(folder)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=1800)
    line = next((l for l in out.stdout.splitlines() if l.startswith("RESULT ")), None)
    if out.returncode or not line:
        raise RuntimeError(f"plain trl run failed:\n{out.stderr[-3000:]}")
    return json.loads(line[len("RESULT "):])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-135m-instruct", help="model to train")
    parser.add_argument("--steps", type=int, default=8, help="optimizer steps per run")
    parser.add_argument("--max-length", type=int, default=128, help="tokens per example")
    parser.add_argument("--batch", type=int, default=2, help="examples per step")
    parser.add_argument("--methods", default=None, help="comma list (default: lora,full, plus qlora on CUDA)")
    args = parser.parse_args()

    import torch

    from apps.models.loading import model_dir
    from apps.models.registry import resolve

    cuda = torch.cuda.is_available()
    methods = args.methods.split(",") if args.methods else ["lora", "full"] + (["qlora"] if cuda else [])
    path = model_dir(resolve(args.model))
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for method in methods:
            lab = run_harness(args.model, method, args.steps, args.max_length, args.batch, Path(tmp) / f"lab-{method}")
            plain = run_plain(path, method, args.steps, args.max_length, args.batch, Path(tmp) / f"trl-{method}")
            results[method] = {
                "lab": lab, "plain_trl": plain,
                # > 0: the lab is slower than bare trl by this many percent
                "harness_overhead_pct": round(100 * (plain["samples_per_s"] / lab["samples_per_s"] - 1), 2),
            }
    print(json.dumps({
        "bench": "finetune", "model": args.model, "device": "cuda" if cuda else "cpu", "steps": args.steps,
        "max_length": args.max_length, "batch": args.batch, "threads": torch.get_num_threads(),
        "note": "" if cuda else "QLoRA needs CUDA (bitsandbytes NF4); measured on GPU machines only",
        "results": results,
    }, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
