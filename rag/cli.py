"""`python -m rag` (and `llmlab rag …`): build, query, evaluate and ask a RAG index from the shell.

    python -m rag build curriculum/lessons --index runs/rag-demo [--chunk-size 300 --overlap 60
                        --strategy sentence --index-type flat|hnsw|ivf --embedder all-minilm-l6-v2]
    python -m rag query runs/rag-demo "什么是 LoRA？" [-k 5 --mode hybrid|lexical|dense --rerank] --json
    python -m rag eval  runs/rag-demo curriculum/data/rag/lessons-zh.jsonl [-k 5 --mode hybrid] --json
    python -m rag ask   runs/rag-demo "What is GQA?" [--model smollm2-135m-instruct | --provider deepseek] [--json]

A LabError prints its message (LLMLAB_LANG=zh for Chinese) and exits 2.
"""
from __future__ import annotations

import argparse
import sys
import time


def _build(args) -> int:
    from apps.cli import emit
    from rag.store import BuildConfig, RagIndex, check_target

    check_target(args.index)  # a file or an unrelated folder is refused before anything is embedded
    config = BuildConfig(chunk_size=args.chunk_size, overlap=args.overlap, strategy=args.strategy,
                         index_type=args.index_type, embedder=args.embedder)
    started = time.perf_counter()

    def progress(frac, stage):
        if not args.json:
            print(f"\r{stage:6s} {frac * 100:5.1f}%", end="", file=sys.stderr, flush=True)

    try:
        index = RagIndex.build(args.paths, config, progress=progress)
        folder = index.save(args.index)
    finally:  # end the progress line, also before an error message
        if not args.json:
            print(file=sys.stderr)
    info = {**index.info(), "folder": str(folder), "seconds": round(time.perf_counter() - started, 2)}
    emit(info, args.json, f"{info['chunks']} chunks from {info['sources']} files → {folder} "
                          f"({info['index']}, {info['seconds']} s)")
    return 0


def _query(args) -> int:
    from apps.cli import emit
    from rag.store import RagIndex

    index = RagIndex.load(args.index, embedder=args.embedder)
    result = index.search(args.question, k=args.k, mode=args.mode, rerank_with="coverage" if args.rerank else None)
    lines = [f"[{h.rank}] {h.score:.4f}  {h.chunk.source}:{h.chunk.start}-{h.chunk.end}\n    "
             + h.chunk.text[:200].replace("\n", " ") for h in result.hits]
    emit(result.to_dict(), args.json, "\n".join(lines) or "-")
    return 0


def _eval(args) -> int:
    from apps.cli import emit
    from rag.evaluate import evaluate, load_questions
    from rag.store import RagIndex

    index = RagIndex.load(args.index, embedder=args.embedder)
    questions = load_questions(args.questions)
    modes = [args.mode] if args.mode != "all" else ["dense", "lexical", "hybrid"]
    reports = [evaluate(index, questions, k=args.k, mode=m, rerank_with="coverage" if args.rerank else None)
               for m in modes]
    if not args.verbose:
        for report in reports:
            report.pop("questions")
    text = "\n".join(f"{r['mode']:8s} hit@{r['k']}={r[f'hit@{args.k}']:.3f}  mrr={r['mrr']:.3f}  n={r['n']}"
                     for r in reports)
    emit(reports[0] if len(reports) == 1 else reports, args.json, text)
    return 0


def _ask(args) -> int:
    from apps.cli import emit
    from rag.answer import build_messages, show_prompt, stream_answer
    from rag.store import RagIndex

    provider = None
    if args.provider != "local":  # the key comes from the preset's environment variable, never argv
        from apps.tasks.providers import ProviderConfig, key_from_env

        provider = ProviderConfig(args.provider, base_url=args.base_url, model=args.provider_model,
                                  api_key=key_from_env(args.provider))
    index = RagIndex.load(args.index, embedder=args.embedder)
    result = index.search(args.question, k=args.k, mode=args.mode)
    step = None
    for step in stream_answer(args.question, result.hits, model=args.model, provider=provider,
                              max_tokens=args.max_tokens):
        if not args.json:
            print(f"\r{step.text}", end="", flush=True)
    if not args.json:
        print()
    prompt = show_prompt(build_messages(args.question, result.hits), None if provider else args.model)
    payload = {**result.to_dict(), "prompt": prompt,
               "answer": step.text if step else "", "cited": step.cited if step else [],
               "generate_s": round(step.seconds, 3) if step else 0.0}
    if args.json:
        emit(payload, True)
    return 0


def add_commands(sub) -> None:
    """Add build/query/eval/ask to an argparse subparsers object."""
    from apps import cliargs
    from rag.chunking import STRATEGIES
    from rag.embed import DEFAULT_EMBEDDER
    from rag.store import DEFAULT_MODE, MODES
    from rag.vectors import KINDS

    build = sub.add_parser("build", help="load files/folders, chunk, embed and save an index folder")
    build.add_argument("paths", nargs="+", help="files (.txt .md .pdf .html .docx) or folders")
    build.add_argument("--index", required=True, help="folder to write the index to (replaced atomically)")
    build.add_argument("--chunk-size", type=cliargs.positive_int, default=300, help="characters per chunk")
    build.add_argument("--overlap", type=cliargs.non_negative_int, default=60, help="characters shared by neighbouring chunks")
    build.add_argument("--strategy", choices=STRATEGIES, default="sentence",
                       help="sentence: cut at 。！？；.!? and paragraphs; fixed: plain windows")
    build.add_argument("--index-type", choices=KINDS, default="flat", help="FAISS index: exact, HNSW graph or IVF cells")
    build.add_argument("--embedder", default=DEFAULT_EMBEDDER, help="registry name, local folder or hub id")
    build.add_argument("--json", action="store_true", help="print the result as JSON")
    build.set_defaults(func=_build)

    for name, helptext, fn in (("query", "retrieve the top-k chunks for a question", _query),
                               ("ask", "retrieve, then stream a cited answer from a model", _ask)):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("index", help="index folder written by `build`")
        p.add_argument("question", help="the question")
        p.add_argument("-k", type=cliargs.positive_int, default=5, help="number of chunks")
        p.add_argument("--mode", choices=MODES, default=DEFAULT_MODE, help="retrieval mode")
        p.add_argument("--embedder", default=None, help="must match the index's embedder (checked)")
        p.add_argument("--json", action="store_true", help="print the result as JSON")
        if name == "query":
            p.add_argument("--rerank", action="store_true", help="apply the coverage rerank pass")
        else:
            p.add_argument("--model", default="smollm2-135m-instruct", help="registry model that answers")
            p.add_argument("--max-tokens", type=cliargs.positive_int, default=200, help="longest answer in tokens")
            p.add_argument("--provider", default="local",
                           help="apps.tasks.providers preset (lab, deepseek, qwen, openai, ollama, custom…); "
                                "its key is read from the preset's environment variable")
            p.add_argument("--provider-model", default=None, help="model id at the provider (default: the preset's)")
            p.add_argument("--base-url", default=None, help="OpenAI-compatible base URL (custom preset)")
        p.set_defaults(func=fn)

    ev = sub.add_parser("eval", help="hit@k and MRR over a JSONL of questions with expected substrings")
    ev.add_argument("index", help="index folder written by `build`")
    ev.add_argument("questions", type=cliargs.readable_text_file, help='JSONL lines {"question": …, "answers": [substring, …]}')
    ev.add_argument("-k", type=cliargs.positive_int, default=5, help="cut-off rank")
    ev.add_argument("--mode", choices=(*MODES, "all"), default=DEFAULT_MODE, help="retrieval mode, or all three")
    ev.add_argument("--rerank", action="store_true", help="apply the coverage rerank pass")
    ev.add_argument("--embedder", default=None, help="must match the index's embedder (checked)")
    ev.add_argument("--verbose", action="store_true", help="include every question's rank")
    ev.add_argument("--json", action="store_true", help="print the result as JSON")
    ev.set_defaults(func=_eval)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rag", description="RAG over FAISS / 基于 FAISS 的检索增强生成")
    add_commands(parser.add_subparsers(dest="command", required=True))
    return parser


def main(argv: list[str] | None = None) -> int:
    from apps.cli import run  # the lab's shared dispatch: LabError → message, exit 2

    return run(build_parser(), argv)
