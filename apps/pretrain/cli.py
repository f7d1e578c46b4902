"""`llmlab pretrain`: clean a corpus, train a tokenizer and a tiny GPT from scratch — from the shell.

    llmlab pretrain --corpus seeds-zh --preset tiny --max-steps 300 --output out/zh-tiny --json
    llmlab pretrain --corpus notes.txt more.md --vocab-size 1000 --output out/mine
    llmlab pretrain --output out/zh-tiny --corpus seeds-zh --resume      # continue from the newest checkpoint
    llmlab pretrain data --corpus lessons-zh seeds-zh --json                # cleaning + dedup counts
    llmlab pretrain tokenizer --corpus seeds-zh --vocab-size 2000 --json    # merges, chars per token
    llmlab pretrain estimate --preset small --vocab-size 32000 --json       # params, memory, FLOPs
    llmlab pretrain scaling --corpus seeds-zh --max-steps 200 --output out/scaling --json

`train` (the default) runs in this process and writes DIR as a Hugging Face model folder (config,
safetensors, tokenizer) that plain AutoModelForCausalLM / AutoTokenizer load. Its JSON: first_loss,
final_loss (training loss, nats/token, mean of the last 10 steps), val_loss, params, tokens_seen,
seconds, output. Bad input (empty or binary corpus, a vocabulary the corpus cannot fill, a context
longer than the data) exits 2 with the message on stderr.
"""
from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

ACTIONS = ("train", "data", "tokenizer", "estimate", "scaling", "presets")
RESULT_KEYS = ("first_loss", "final_loss", "val_loss", "params", "tokens_seen", "seconds", "output", "steps",
               "tokens_per_s")


def register(subparsers) -> None:
    from apps.finetune.config import add_arguments
    from apps.pretrain.config import PretrainConfig

    parser = subparsers.add_parser("pretrain", help="train a tokenizer and a tiny GPT from scratch",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", nargs="?", default="train", choices=ACTIONS, help="what to do (default: train)")
    add_arguments(parser, PretrainConfig)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def run(args) -> int:
    from apps.cli import emit
    from apps.pretrain import architecture
    from apps.pretrain import config as config_mod

    if args.action == "presets":
        from dataclasses import asdict

        rows = {name: asdict(shape) for name, shape in architecture.PRESETS.items()}
        emit(rows, args.json, "\n".join(f"{n}: {s}" for n, s in rows.items()))
        return 0
    if args.action == "estimate":
        args.corpus = args.corpus or ["-"]  # an estimate needs no data
    cfg = config_mod.from_args(args)
    if args.action == "estimate":
        est = architecture.estimate(cfg.shape(), cfg.vocab_size)
        est["train_flops"] = architecture.train_flops(est, cfg.max_steps)
        emit(est, args.json, f"{architecture.human(est['params'])} params, ~{est['memory_mb']:.0f} MB to train, "
             f"{architecture.human(est['flops_per_token_train'])} FLOPs/token, "
             f"{architecture.human(est['train_flops'])} FLOPs for {cfg.max_steps} steps")
        return 0
    if args.action == "data":
        from apps.pretrain import corpus

        report = corpus.build(cfg.corpus, cfg.val_fraction, cfg.seed).report
        emit(report, args.json, ", ".join(f"{k} {v}" for k, v in report.items()))
        return 0
    if args.action == "tokenizer":
        from apps.pretrain import corpus, tokenizer

        built = corpus.build(cfg.corpus, cfg.val_fraction, cfg.seed)
        tok = tokenizer.train(built.train, cfg.vocab_size)
        merges = tokenizer.learned_merges(tok)
        out = {"vocab_size": len(tok), "merges": len(merges), "first_merges": ["".join(m) for m in merges[:20]],
               "chars_per_token": {"train": round(tokenizer.chars_per_token(tok, built.text("train")), 3),
                                   "val": round(tokenizer.chars_per_token(tok, built.text("val")), 3) if built.val else None}}
        if cfg.output:
            tok.save_pretrained(cfg.output)
            out["output"] = str(Path(cfg.output).resolve())
        emit(out, args.json, f"{out['vocab_size']} tokens; first merges: {' '.join(out['first_merges'])}; "
             f"chars/token {out['chars_per_token']}")
        return 0
    if args.action == "scaling":
        from apps.pretrain import scaling

        rows = scaling.run_foreground(cfg)
        emit(rows, args.json, "\n".join(f"{r['preset']}: {r['params']} params, val loss {r['val_loss']}" for r in rows))
        return 0 if all(r["state"] == "finished" for r in rows) else 1
    return _train(cfg, args.json)


def _train(cfg, as_json: bool) -> int:
    from apps.cli import emit
    from apps.errors import LabError
    from apps.models.loading import pick_device
    from apps.pretrain import config as config_mod
    from apps.pretrain import train

    if not cfg.output:
        raise LabError("pretrain.no_output")
    cfg = config_mod.resolve(replace(cfg, output=str(Path(cfg.output).expanduser().resolve())), pick_device(cfg.device))
    # The data checks raise here, before the output folder is made: exit 2 with the message.
    data = train.build_data(cfg, Path(cfg.output) if cfg.resume else None)
    import signal

    signal.signal(signal.SIGTERM, train._stop_on_sigterm)  # `kill` records "stopped", resumable, like Ctrl-C
    status = train.main(cfg, data=data)
    final = status.get("final", {})
    payload = {"state": status["state"], "run_id": status.get("run_id"), **{k: final.get(k) for k in RESULT_KEYS},
               "reason": status.get("reason", ""), "data": final.get("data", data.report)}
    payload["output"] = payload["output"] or cfg.output
    fmt = lambda v: f"{v:.3f}" if isinstance(v, float) else str(v)  # noqa: E731
    emit(payload, as_json, f"{status['state']}: loss {fmt(payload['first_loss'])} → {fmt(payload['final_loss'])} "
         f"(val {fmt(payload['val_loss'])}), {payload['params']} params, {payload['tokens_seen']} tokens in "
         f"{fmt(payload['seconds'])} s → {payload['output']} {status.get('reason') or ''}".rstrip())
    return 0 if status["state"] == "finished" else 1
