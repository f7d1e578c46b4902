"""`llmlab`: every capability of the lab from the shell, for teachers, notebooks and scripts.

    llmlab serve [--host 127.0.0.1 --port 7860]
    llmlab generate --model smollm2-135m-instruct --prompt "Hi" [--json]
    llmlab models [--json]

Each stage adds its subcommands in its own `cli.py` (a `register(subparsers)` function) and one
line to COMMANDS. A LabError prints its message (LLMLAB_LANG=zh for Chinese) and exits 2.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys

from apps import cliargs
from apps.errors import LabError

COMMANDS: list[str] = [
    "apps.playground.cli",
    "apps.attention.cli",
    "apps.retrieval.cli",
    "apps.pretrain.cli",
    "apps.finetune.cli",
    "apps.tasks.cli",
    "apps.serving.cli",
    "apps.arena.cli",
    "apps.course.cli",
    "apps.auth.cli",
    "apps.quantize.cli",
    "apps.space.cli",
    "apps.deploy.cli",
    "apps.align.cli",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="llmlab", description="LLM 0→1 Lab / 大模型 0→1 实验室")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="start the web UI (and the API routes) on HOST:PORT")
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    serve.add_argument("--port", type=cliargs.port, default=7860, help="port to listen on")
    serve.add_argument("--mode", choices=("personal", "classroom", "spaces"),
                       help="who is who (default: $LLMLAB_MODE, else personal; see `llmlab class`)")
    serve.set_defaults(func=_serve)
    for module_path in COMMANDS:
        importlib.import_module(module_path).register(sub)
    return parser


def _serve(args) -> int:
    from apps.server import serve

    cliargs.check_listen(args.host, args.port)
    if args.mode:
        os.environ["LLMLAB_MODE"] = args.mode
    print(f"LLM 0→1 Lab on http://{args.host}:{args.port}", flush=True)
    serve(args.host, args.port)
    return 0


def emit(payload, as_json: bool, text: str | None = None) -> None:
    """Print a result as JSON (--json) or as readable text."""
    if as_json:
        print(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
    else:
        print(text if text is not None else payload)


def main(argv: list[str] | None = None) -> int:
    return run(build_parser(), argv)


def run(parser: argparse.ArgumentParser, argv: list[str] | None = None) -> int:
    """Parse, dispatch to the subcommand's func, and turn a LabError into a message and exit 2."""
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except LabError as exc:
        lang = os.environ.get("LLMLAB_LANG", "en")
        if getattr(args, "json", False):
            print(json.dumps({"error": {"key": exc.key, "message": exc.message(lang)}}, ensure_ascii=False))
        print(f"error: {exc.message(lang)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
