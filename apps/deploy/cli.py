"""`llmlab chat` (a terminal chat) and `llmlab deploy export|loadtest|connect`.

    llmlab chat --model smollm2-135m-instruct [--system "You are terse."] [--max-tokens 256] [--temperature 0]
    llmlab chat --model smollm2-135m-instruct@llama.cpp          # the optional llama.cpp engine (make llama)
    llmlab chat --model ~/models/qwen2.5-7b-instruct-q4_k_m.gguf  # any GGUF file, kept quantised
    llmlab deploy export --model smollm2-135m-instruct [--index runs/rag-demo] [--system TEXT] --output my-app
    llmlab deploy export --model ~/models/qwen2.5-7b-instruct-q4_k_m.gguf --output my-gguf-app   # llama-cpp-python app
    llmlab deploy loadtest --base-url http://127.0.0.1:7860/v1 --model smollm2-135m-instruct --streams 8 [--plot load.png]
    llmlab deploy connect [--base-url http://HOST:7860/v1]        # commands for Open WebUI, Ollama, vLLM, llama.cpp

In the chat: /help, /reset, /save FILE, /model [NAME], /params [k=v …], /system [TEXT], /exit.
Ctrl-C stops the reply being written (what was said stays); Ctrl-D (or /exit) leaves.
"""
from __future__ import annotations

import os
import sys
import threading

from apps.cli import emit
from apps.errors import LabError
from apps.i18n import t


def _lang() -> str:
    return os.environ.get("LLMLAB_LANG", "en")


def register(sub) -> None:
    p = sub.add_parser("chat", help="chat with a model in the terminal (streaming, multi-turn)")
    p.add_argument("--model", default="smollm2-135m-instruct",
                   help="registry name, 'name@llama.cpp', a .gguf file, a local or lab-trained folder, a hub id (online)")
    p.add_argument("--system", default="", help="system prompt")
    p.add_argument("--max-tokens", type=int, default=256, help="longest reply, in tokens")
    p.add_argument("--temperature", type=float, default=0.0, help="0 = greedy; >0 samples")
    p.add_argument("--seed", type=int, default=None, help="seed for sampling (reproducible replies)")
    p.set_defaults(func=_chat)

    deploy = sub.add_parser("deploy", help="ship what you built: export an app, load-test an endpoint, connect servers")
    inner = deploy.add_subparsers(dest="deploy_command", required=True)
    e = inner.add_parser("export", help="a standalone folder: app.py (Gradio chat, RAG if chosen), requirements, README")
    e.add_argument("--model", required=True,
                   help="registry name, lab-trained folder, 'base+adapter:folder', hub id, or a GGUF: a .gguf file "
                        "or 'name@llama.cpp' (the app then runs it with llama-cpp-python, kept quantised)")
    e.add_argument("--index", default=None, help="a RAG index folder (llmlab rag build …) to answer from")
    e.add_argument("--system", default="", help="system prompt of the app")
    e.add_argument("--title", default="My first AI app", help="the app's title (and the Space's)")
    e.add_argument("--max-tokens", type=int, default=256, help="longest reply, in tokens")
    e.add_argument("--temperature", type=float, default=0.0, help="0 = greedy")
    e.add_argument("--weights", choices=("copy", "hub"), default="copy",
                   help="copy: the weights go into the folder (runs offline); hub: the app downloads its upstream model")
    e.add_argument("--output", required=True, help="a new or empty folder")
    e.add_argument("--json", action="store_true", help="print JSON")
    e.set_defaults(func=_export)
    lt = inner.add_parser("loadtest", help="N concurrent streaming chats against an OpenAI-compatible endpoint")
    lt.add_argument("--base-url", default=os.environ.get("LLMLAB_API_BASE", "http://127.0.0.1:7860/v1"),
                    help="the endpoint's /v1 URL")
    lt.add_argument("--model", default="smollm2-135m-instruct", help="model id at that endpoint")
    lt.add_argument("--streams", type=int, nargs="+", default=[8], help="concurrent streams (several = a sweep)")
    lt.add_argument("--max-tokens", type=int, default=64, help="tokens per reply")
    lt.add_argument("--plot", default=None, help="write the timeline of the last run as a PNG here")
    lt.add_argument("--json", action="store_true", help="print JSON")
    lt.set_defaults(func=_loadtest)
    c = inner.add_parser("connect", help="commands that plug the lab into Open WebUI and other servers into the lab")
    c.add_argument("--base-url", default=None, help="the lab's /v1 URL as others reach it")
    c.add_argument("--json", action="store_true", help="print JSON")
    c.set_defaults(func=_connect)


# ---------------------------------------------------------------- the REPL

def _out(text: str = "", end: str = "\n") -> None:
    sys.stdout.write(text + end)
    sys.stdout.flush()


def _chat(args) -> int:
    from apps.deploy.chat import ChatSession

    lang = _lang()
    params = {"max_tokens": args.max_tokens, "temperature": args.temperature}
    if args.seed is not None:
        params["seed"] = args.seed
    session = ChatSession(args.model, system=args.system, params=params, lang=lang)
    session.set_params("")  # checks the flags before anything loads
    line = session.memory_line()
    if line:
        _out(line)
    _out(t("chat.loading", lang, model=args.model))
    lm = session.open()
    _out(t("chat.ready", lang, model=lm.name, engine=getattr(lm, "variant", "lm")))
    while True:
        try:
            text = input(t("chat.prompt", lang))
        except EOFError:
            _out()
            return 0
        except KeyboardInterrupt:
            _out("\n" + t("chat.leave_hint", lang))
            continue
        if not text.strip():
            continue
        try:
            if text.startswith("/"):
                said, leave = session.command(text)
                if said:
                    _out(said)
                if leave:
                    return 0
                continue
            _reply(session, text, lang)
        except LabError as exc:
            _out(t("chat.error", lang, message=exc.message(lang)))


def _reply(session, text: str, lang: str) -> None:
    cancel = threading.Event()
    shown = ""
    _out(t("chat.bot", lang), end="")
    try:
        for so_far in session.reply(text, cancel=cancel):
            _out(so_far[len(shown):] if so_far.startswith(shown) else "\n" + so_far, end="")
            shown = so_far
    except KeyboardInterrupt:
        cancel.set()  # the engine ends the sequence at its next step; the words so far stay in the history
        _out("\n" + t("chat.stopped", lang))
        return
    s = session.last
    _out("\n" + t("chat.stats", lang, n=s.tokens, tps=s.tokens_per_s, ttft=s.ttft_ms, finish=s.finish) if s else "")


# ---------------------------------------------------------------- deploy subcommands

def _export(args) -> int:
    from apps.deploy.export import ExportConfig, export

    cfg = ExportConfig(model=args.model, output=args.output, index=args.index, system=args.system,
                       title=args.title, max_tokens=args.max_tokens, temperature=args.temperature,
                       weights=args.weights)
    report = export(cfg)
    emit(report, args.json, t("deploy.exported", _lang(), output=report["output"], mb=report["size_mb"],
                              run=report["run"]))
    return 0


def _loadtest(args) -> int:
    from apps.deploy.loadtest import LoadConfig, run, timeline_figure

    key = os.environ.get("LLMLAB_API_KEY") or None  # never a flag: flags end up in shell history
    reports = []
    for n in args.streams:
        report = run(LoadConfig(base_url=args.base_url, model=args.model, streams=n, max_tokens=args.max_tokens,
                                api_key=key))
        reports.append(report)
        if not args.json:
            _out(t("deploy.load_line", _lang(), n=n, served=report["served"], refused=report["refused"],
                   failed=report["failed"], tps=report["aggregate_tok_s"], ttft50=report["ttft_p50_s"],
                   ttft95=report["ttft_p95_s"]))
    if args.plot:
        timeline_figure(reports[-1], _lang()).savefig(args.plot)
    if args.json:
        emit(reports if len(reports) > 1 else reports[0], True)
    return 0 if all(r["served"] for r in reports) else 1


def _connect(args) -> int:
    from apps.deploy.connect import commands

    rows = commands(args.base_url, _lang())
    emit(rows, args.json, "\n\n".join(f"# {r['title']}\n{r['command']}" for r in rows))
    return 0
