"""`llmlab tasks`: summarise or classify a JSONL/CSV file through a provider, print metrics and rows.

    llmlab tasks summarize --data curriculum/data/tasks/news_zh.jsonl --provider local --length 60 --json
    llmlab tasks classify --data headlines_zh --json                    # the default (best measured) method
    llmlab tasks classify --data heldout.jsonl --train headlines_zh --method all --json   # every method side by side
    DEEPSEEK_API_KEY=sk-... llmlab tasks classify --data headlines.csv --labels sports,tech,business \\
        --method few-shot --provider deepseek --out results.csv
    llmlab tasks presets

The key comes from the preset's environment variable (e.g. DEEPSEEK_API_KEY, or LLMLAB_API_KEY);
there is no --api-key flag on purpose: flags end up in shell history and process lists.
"""
from __future__ import annotations

import sys
from pathlib import Path

from apps.cli import emit
from apps.errors import LabError
from apps.tasks import batch, classify, summarize
from apps.tasks.providers import PRESETS, ProviderConfig, key_from_env


def register(sub) -> None:
    tasks = sub.add_parser("tasks", help="API task lab: summarisation and classification through a provider")
    inner = tasks.add_subparsers(dest="tasks_command", required=True)

    def common(p):
        p.add_argument("--data", required=True,
                       help="JSONL/JSON/CSV file, or a sample name: " + ", ".join(batch.SAMPLES))
        p.add_argument("--provider", default="lab", choices=list(PRESETS),
                       help="provider preset; 'local' runs a registry model in this process without HTTP")
        p.add_argument("--model", default=None, help="model name (default: the preset's)")
        p.add_argument("--base-url", default=None, help="API base URL (custom/vllm/ollama, or to override a preset)")
        p.add_argument("--template", default=None, help="file holding a prompt template (default: built-in)")
        p.add_argument("--lang", default=None, choices=["zh", "en"], help="language of the built-in template")
        p.add_argument("--limit", type=int, default=0, help="use only the first N items (0 = all)")
        p.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
        p.add_argument("--out", default=None, help="write per-item rows to this .csv or .jsonl file")
        p.add_argument("--json", action="store_true", help="print the full result as JSON")

    s = inner.add_parser("summarize", help="summarise articles; ROUGE-1/2/L against references")
    common(s)
    s.add_argument("--length", type=int, default=60, help="target length (characters for zh, words for en)")
    s.add_argument("--max-tokens", type=int, default=None, help="cap on generated tokens (default: from --length)")
    s.set_defaults(func=run_summarize)

    c = inner.add_parser("classify", help="label texts; accuracy, macro-F1 and confusion matrix")
    common(c)
    c.add_argument("--labels", nargs="*", default=None, help="label set, e.g. sports tech or 'sports,tech'")
    c.add_argument("--method", default=classify.DEFAULT_METHOD, choices=[*classify.METHODS, "all"],
                   help="how to classify; 'all' compares every offline method (and zero/few-shot when "
                        "--provider is given) side by side")
    c.add_argument("--shots", type=int, default=2, help="examples per label (few-shot, likelihood)")
    c.add_argument("--embedder", default=classify.DEFAULT_EMBEDDER,
                   help="embedding model for embedding/trained: multilingual-e5-small or all-minilm-l6-v2")
    c.add_argument("--scorer", default=classify.DEFAULT_SCORER, help="local model for the likelihood method")
    c.add_argument("--train", default=None,
                   help="labelled training/example items (file or sample name); then every --data item is scored")
    c.set_defaults(func=run_classify)

    p = inner.add_parser("presets", help="list provider presets, base URLs, default models and prices")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(func=run_presets)


def _load(name: str) -> list[dict]:
    return batch.load_items(batch.sample_path(batch.SAMPLES[name]) if name in batch.SAMPLES else name)


def _items(args) -> list[dict]:
    if args.limit < 0:
        raise LabError("tasks.bad_limit", value=args.limit)
    items = _load(args.data)
    return items[: args.limit] if args.limit else items


def _check_cheap(args) -> None:
    """What can be wrong without reading data or loading a model: the --out path and the template."""
    if args.out:
        batch.check_out_path(args.out)
    args.template_text = _template(args)


def _config(args) -> ProviderConfig:
    return ProviderConfig(args.provider, base_url=args.base_url, model=args.model,
                          api_key=key_from_env(args.provider), timeout=args.timeout)


def _template(args) -> str | None:
    """The --template file's text; a missing, binary or non-UTF-8 file is a clear error."""
    if not args.template:
        return None
    path = Path(args.template)
    if not path.is_file():
        raise LabError("tasks.no_file", file=str(path))
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LabError("tasks.template_not_text", file=path.name) from None
    if "\x00" in text:
        raise LabError("tasks.template_not_text", file=path.name)
    return text


def _lang(args, items) -> str:
    if args.lang:
        return args.lang
    sample = "".join(i["text"] for i in items[:5])
    return "zh" if sum("\u4e00" <= ch <= "\u9fff" for ch in sample) > len(sample) * 0.2 else "en"


def _progress(done: int, total: int) -> None:
    print(f"\r{done}/{total}", end="" if done < total else "\n", file=sys.stderr, flush=True)


def run_summarize(args) -> int:
    _check_cheap(args)
    if args.template_text is not None:
        summarize.fill(args.template_text, "")
    items = _items(args)
    lang = _lang(args, items)
    result = summarize.run(_config(args), items, args.template_text, args.length, lang, _progress,
                           **({"max_tokens": args.max_tokens} if args.max_tokens else {}))
    if args.out:
        batch.write_results(result["rows"], args.out)
    t = result["totals"]
    text = "\n".join(
        [f"[{r['id']}] {r.get('summary', '')!r}  R1={r.get('rouge1', '-')} R2={r.get('rouge2', '-')} "
         f"RL={r.get('rougeL', '-')} {r['latency_s']}s {r.get('error', '')}" for r in result["rows"]]
        + [f"mean ROUGE (F1) over {result['scored']} items: {result['rouge']}",
           f"tokens {t['prompt_tokens']}+{t['completion_tokens']}, ≈{t['cost']} {result['currency']} "
           f"(approximate list price), errors {t['errors']}"])
    emit(result, args.json, text)
    return 0


def run_classify(args) -> int:
    _check_cheap(args)
    items = _items(args)
    if args.train:
        items = [dict(i, split="train") for i in _load(args.train)] + [dict(i, split="test") for i in items]
    lang = _lang(args, [i for i in items if i.get("split") != "train"] or items)
    if args.method == "all":
        cfg = _config(args) if args.provider not in ("lab",) or args.base_url else None
        result = classify.compare(items, args.labels, lang, args.shots, args.template_text, cfg, progress=_progress)
        lines = [f"{r['method']:12} {r['model'] or '-':24} accuracy {r['accuracy']:.3f}  macro-F1 {r['macro_f1']:.3f}"
                 f"  unparsed {r['unparsed']}  {r['seconds']}s{'  (default)' if r['default'] else ''}"
                 for r in result["rows"]]
        emit(result, args.json, "\n".join(lines))
        return 0
    needs_provider = args.method in ("zero-shot", "few-shot")
    result = classify.run(items, args.method, args.labels, _config(args) if needs_provider else None,
                          args.template_text, lang, args.shots, args.embedder, _progress, scorer=args.scorer)
    if args.out:
        batch.write_results(result["rows"], args.out)
    rep = result["report"]
    lines = [f"[{r['id']}] gold={r.get('gold')} pred={r.get('pred')} raw={r.get('raw', '')!r} {r.get('error', '')}"
             for r in result["rows"]]
    if rep:
        lines.append(f"accuracy {rep['accuracy']:.3f}  macro-F1 {rep['macro_f1']:.3f}  unparsed {rep['unparsed']}"
                     f"  (test {result['test_size']}, train {result['train_size']})")
        lines.append("confusion (rows gold, columns " + ", ".join(rep["columns"]) + "):")
        lines += [f"  {lab}: {row}" for lab, row in zip(rep["labels"], rep["confusion"])]
    emit(result, args.json, "\n".join(lines))
    return 0


def run_presets(args) -> int:
    rows = [{"preset": p.key, "name": p.label[1],
             "base_url": ProviderConfig("lab").url if p.key == "lab" else p.base_url, "model": p.model, "env": p.env_var,
             "key_site": p.key_site,
             "price_per_1M_tokens": [p.price_in, p.price_out, p.currency]} for p in PRESETS.values()]
    emit(rows, args.json, "\n".join(f"{r['preset']:9} {r['model'] or '-':24} {r['base_url'] or '-':52} "
                                    f"{'$' + r['env'] if r['env'] else '-'}" for r in rows))
    return 0
