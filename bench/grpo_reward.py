"""Does GRPO move the reward? A short LoRA GRPO run on SmolLM2 with a keyword reward, through
`python -m apps.finetune.train` (the runner's own command), and how its mean reward moves.

    .venv/bin/python bench/grpo_reward.py [--steps 20] [--reward keyword:the] [--threads 1]

Prints JSON: the reward and KL of every step, the mean reward of the first and last quarter of
the run, and seconds per step. `--threads 1` helps on a crowded CPU: two torch threads fighting
other processes for two cores made each small matmul ~9x slower here (OpenMP barrier waits).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=20, help="GRPO optimizer steps")
    parser.add_argument("--reward", default="keyword:the", help="reward spec (see apps/align/rewards.py)")
    parser.add_argument("--data", default="prompts_en", help="prompt set")
    parser.add_argument("--generations", type=int, default=4, help="replies per prompt (the group)")
    parser.add_argument("--max-completion", type=int, default=16, help="tokens per reply")
    parser.add_argument("--lr", type=float, default=2e-4, help="learning rate (LoRA)")
    parser.add_argument("--threads", type=int, default=0, help="torch/OpenMP threads (0: torch's default)")
    args = parser.parse_args()

    out = Path(tempfile.mkdtemp(prefix="grpo-bench-")) / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if args.threads:
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(args.threads)
    cmd = [sys.executable, "-m", "apps.finetune.train", "--objective", "grpo", "--data", args.data,
           "--reward", args.reward, "--max-steps", str(args.steps), "--num-generations", str(args.generations),
           "--batch-size", str(args.generations), "--grad-accum", "1", "--max-completion-length",
           str(args.max_completion), "--learning-rate", str(args.lr), "--save-steps", str(args.steps),
           "--output", str(out)]
    t0 = time.time()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.time() - t0
    if proc.returncode != 0:
        sys.exit(proc.stdout[-2000:] + proc.stderr[-2000:])
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    logs = [r for r in records if r["type"] == "log" and "reward" in r]
    rewards = [round(r["reward"], 3) for r in logs]
    q = max(1, len(rewards) // 4)
    end = next(r for r in records if r["type"] == "end")
    print(json.dumps({
        "reward_spec": args.reward, "steps": len(rewards), "generations": args.generations, "lr": args.lr,
        "reward_per_step": rewards, "kl_per_step": [round(r.get("kl", 0.0), 5) for r in logs],
        "first_quarter_mean": round(sum(rewards[:q]) / q, 3), "last_quarter_mean": round(sum(rewards[-q:]) / q, 3),
        "s_per_step": round(end["train_runtime"] / max(1, len(rewards)), 2), "wall_s": round(wall, 1),
        "threads": args.threads or "default", "last_samples": next(
            (r["samples"] for r in reversed(records) if r["type"] == "samples"), []),
    }, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
