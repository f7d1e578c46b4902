"""`llmlab finetune`: train, estimate, preview data, list runs and adapters, merge — from the shell.

    llmlab finetune --model smollm2-135m-instruct --method lora --data alpaca_en --max-steps 20
    llmlab finetune --config runs/<id>/run.yaml --max-steps 50     # reproduce, flags override
    llmlab finetune estimate --model gemma-3-270m --method full --json
    llmlab finetune validate --data my.jsonl                         # names every bad line, exit 2
    llmlab finetune preview --data alpaca_zh --n 2                   # [trained] tokens in brackets
    llmlab finetune runs | adapters | samples [--json]
    llmlab finetune merge --run <id> [--out DIR]

`train` runs in the foreground in this process; the web tab runs the same code in a subprocess.
"""
from __future__ import annotations

from apps.finetune import config as config_mod

ACTIONS = ("train", "estimate", "validate", "preview", "runs", "adapters", "samples", "merge")


def register(subparsers) -> None:
    parser = subparsers.add_parser("finetune", help="fine-tune a model (LoRA / QLoRA / full, SFT / DPO)",
                                   description=__doc__, formatter_class=__import__("argparse").RawDescriptionHelpFormatter)
    parser.add_argument("action", nargs="?", default="train", choices=ACTIONS, help="what to do (default: train)")
    config_mod.add_arguments(parser)
    parser.add_argument("--run", help="run id (merge)")
    parser.add_argument("--out", help="export folder (merge; default runs/<id>/merged)")
    parser.add_argument("--n", type=int, default=2, help="examples to show (preview)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def run(args) -> int:
    from apps.cli import emit

    cfg = config_mod.from_args(args)
    action = args.action
    if action == "train":
        from apps.finetune import train

        train.preflight(cfg)  # a bad run is refused (exit 2) before a model loads
        status = train.main(cfg)
        emit(status, args.json, f"run {status['run_id']}: {status['state']} {status.get('reason') or ''}\n"
             f"folder: {cfg.output or status.get('run_id')}")
        return 0 if status["state"] == "finished" else 1
    if action == "estimate":
        from apps.finetune.estimate import estimate

        est = estimate(cfg)
        est.pop("config")
        if est["blocker"]:
            from apps.errors import LabError

            raise LabError(est["blocker"])
        parts = ", ".join(f"{k} {v:.0f}" for k, v in est["parts_mb"].items())
        emit(est, args.json, f"{est['model']} {est['method']}/{est['objective']} on {est['device']}: "
             f"~{est['total_mb']:.0f} MB ({parts}, overhead {est['overhead_mb']}) of {est['available_mb']:.0f} MB "
             f"{est['memory_of']} → {'fits' if est['fits'] else 'WARNING: likely out of memory'}")
        return 0
    if action in ("validate", "preview"):
        from apps.finetune import data

        dataset = data.load(cfg.data, cfg.objective)
        if action == "validate":
            emit({"path": dataset.path, "format": dataset.fmt, "examples": len(dataset), "pairs": len(dataset.pairs)},
                 args.json, f"{dataset.path}: {len(dataset)} examples ({dataset.fmt}), {len(dataset.pairs)} pairs — OK")
            return 0
        from transformers import AutoTokenizer

        from apps.models.loading import model_dir
        from apps.models.registry import resolve

        tokenizer = AutoTokenizer.from_pretrained(model_dir(resolve(cfg.model)))
        shown = data.preview(tokenizer, dataset, n=args.n, max_length=cfg.max_length or 256)
        text = "\n\n".join("".join(f"[{p}]" if t else p for p, t in ex["tokens"])
                           + f"\n-- {ex['n_trained']}/{ex['n_tokens']} tokens trained" for ex in shown)
        emit(shown, args.json, text)
        return 0
    from apps.finetune import runs

    if action == "runs":
        rows = [{k: v for k, v in r.items() if k != "config"} for r in runs.list_runs()]
        emit(rows, args.json, "\n".join(f"{r['run_id']}  {r['state']:<9} {r['reason']}" for r in rows) or "no runs")
    elif action == "adapters":
        rows = runs.list_adapters()
        emit(rows, args.json, "\n".join(f"{r['label']}: {r['base_model']} + {r['adapter_path']}" for r in rows) or "none")
    elif action == "samples":
        from apps.finetune import data

        rows = {name: str(path) for name, path in data.samples().items()}
        emit(rows, args.json, "\n".join(rows))
    elif action == "merge":
        from apps.errors import LabError

        if not args.run:
            raise LabError("finetune.no_run", run_id="(--run)")
        from apps.finetune.train import check_output

        check_output(args.out)
        runs.get_run(args.run)  # a run that does not exist is refused before the model loads
        path = runs.merge_and_export(args.run, args.out)
        emit({"merged": path}, args.json, path)
    return 0
