"""`llmlab arena …`: ratings, vote files, automatic evals and the LLM judge from the shell.

    llmlab arena ratings --votes clean_battle.json --method bt --bootstrap 1000 --json
    llmlab arena ratings --db                      # the arena's own SQLite votes
    llmlab arena export --out votes.jsonl          # Chatbot Arena battle JSONL
    llmlab arena import --votes votes.jsonl
    llmlab arena perplexity --model smollm2-135m-instruct --model gemma-3-270m --lang en --json
    llmlab arena mc --model gemma-3-270m --lang zh --json
    llmlab arena judge --provider deepseek --prompts prompts.txt --contestant A --contestant B

The database is $LLMLAB_ARENA_DB, else ~/.cache/llmlab/arena.db; --db PATH picks another.
"""
from __future__ import annotations

from pathlib import Path

from apps import cliargs
from apps.cli import emit
from apps.userfiles import read_text


def _db_arg(p, for_ratings: bool = False) -> None:
    if for_ratings:
        p.add_argument("--db", nargs="?", const="", default=None,
                       help="rate the votes in the arena database (optionally at this path) instead of --votes")
    else:
        p.add_argument("--db", default=None, help="SQLite vote database (default $LLMLAB_ARENA_DB or lab_home()/arena.db)")
    p.add_argument("--json", action="store_true", help="print JSON")


def register(sub) -> None:
    arena = sub.add_parser("arena", help="eval arena: ratings, vote files, perplexity, multiple choice, judge")
    cmds = arena.add_subparsers(dest="arena_command", required=True)

    p = cmds.add_parser("ratings", help="Elo or Bradley-Terry leaderboard from votes")
    p.add_argument("--votes", type=cliargs.readable_text_file, help="vote file: Chatbot Arena battle JSONL or JSON list")
    p.add_argument("--method", choices=["bt", "elo"], default="bt", help="Bradley-Terry MLE (default) or online Elo")
    p.add_argument("--bootstrap", type=cliargs.non_negative_int, default=0, help="bootstrap rounds for 95%% intervals (0 = none)")
    p.add_argument("--k", type=cliargs.positive_float, default=4.0, help="Elo K factor (rating points moved per surprise)")
    p.add_argument("--source", choices=["human", "judge", "import"], help="only votes of this source (--db)")
    p.add_argument("--matrices", action="store_true", help="add win-rate and battle-count matrices to --json")
    p.add_argument("--seed", type=cliargs.seed, default=0, help="bootstrap seed")
    _db_arg(p, for_ratings=True)
    p.set_defaults(func=_ratings)

    p = cmds.add_parser("export", help="write the database's votes as Chatbot Arena battle JSONL")
    p.add_argument("--out", required=True, type=cliargs.writable_file, help="JSONL file to write (atomically)")
    p.add_argument("--source", choices=["human", "judge", "import"], help="only votes of this source")
    _db_arg(p)
    p.set_defaults(func=_export)

    p = cmds.add_parser("import", help="add votes from a Chatbot Arena battle file (twice adds nothing)")
    p.add_argument("--votes", required=True, type=cliargs.readable_text_file, help="JSONL or JSON list of battles")
    _db_arg(p)
    p.set_defaults(func=_import)

    p = cmds.add_parser("perplexity", help="perplexity (and the mean token loss) on held-out text")
    p.add_argument("--model", action="append", required=True, help="registry model or model+adapter; repeatable")
    p.add_argument("--lang", choices=["en", "zh"], default="en", help="which team-written held-out text")
    p.add_argument("--text", type=cliargs.readable_text_file, help="score this UTF-8 file instead (passages separated by blank lines)")
    p.add_argument("--window", type=cliargs.int_in(2, name="window"), default=512, help="sliding window in tokens (stride = half)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_perplexity)

    p = cmds.add_parser("mc", help="multiple-choice accuracy by log-likelihood (acc, acc_norm)")
    p.add_argument("--model", action="append", required=True, help="registry model or model+adapter; repeatable")
    p.add_argument("--lang", choices=["en", "zh"], default="en", help="which benchmark (and prompt template)")
    p.add_argument("--file", type=cliargs.readable_text_file, help="questions JSONL instead of the built-in benchmark")
    p.add_argument("--limit", type=cliargs.non_negative_int, default=0, help="only the first N questions (0 = all)")
    p.add_argument("--details", action="store_true", help="include per-question log-likelihoods in --json")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_mc)

    p = cmds.add_parser("judge", help="fill battles with an LLM judge's verdicts (stored as judge votes)")
    p.add_argument("--provider", default="local", help="apps.tasks.providers preset (local, lab, deepseek, …)")
    p.add_argument("--judge-model", help="the judge's model id (default: the preset's)")
    p.add_argument("--base-url", help="OpenAI-compatible base URL (custom preset)")
    p.add_argument("--prompts", required=True, type=cliargs.readable_text_file, help="text file, one prompt per line")
    p.add_argument("--contestant", action="append", help="contestant spec; repeatable (default: the arena pool)")
    p.add_argument("--max-new-tokens", type=cliargs.positive_int, default=96, help="reply length of each contestant")
    p.add_argument("--one-order", action="store_true", help="ask once instead of twice with answers swapped")
    _db_arg(p)
    p.set_defaults(func=_judge)


def _table(rows: list[dict], method: str = "bt") -> str:
    from apps.arena.ratings import MIN_VOTES, PRIOR_SD

    lines = [f"{'rank':>4}  {'model':<40} {'rating':>8} {'95% CI':>17} {'votes':>6}"]
    for r in rows:
        ci = f"{r['ci_low']:.0f}..{r['ci_high']:.0f}" if r["ci_low"] is not None else "-"
        rank = "-" if r["rank"] is None else str(r["rank"])
        lines.append(f"{rank:>4}  {r['model'][:40]:<40} {r['rating']:>8.1f} {ci:>17} {r['votes']:>6}")
    if any(r["rank"] is None for r in rows):
        lines.append(f"rank '-': fewer than {MIN_VOTES} votes (not enough votes yet)")
    if method == "bt":
        lines.append(f"Bradley-Terry with a Gaussian prior N(1000, {PRIOR_SD:.0f}²) on each rating")
    return "\n".join(lines)


def _ratings(args) -> int:
    from apps.arena import ratings, votefile
    from apps.arena.store import VoteStore
    from apps.errors import LabError

    if args.votes:
        records, origin = votefile.read(args.votes), args.votes
    elif args.db is not None:
        store = VoteStore(args.db or None)
        records, origin = store.records(args.source), str(store.path)
    else:
        raise LabError("arena.no_file", path="--votes FILE or --db")
    battles = ratings.Battles.from_records(records)
    rows = ratings.leaderboard(battles, args.method, args.bootstrap, args.k, args.seed)
    payload = {"source": origin, "method": args.method, "votes": battles.n, "models": len(battles.models),
               "bootstrap": args.bootstrap, "leaderboard": rows}
    if args.method == "elo":
        payload["k"] = args.k
    else:
        payload["prior_sd"] = ratings.PRIOR_SD
    payload["min_votes"] = ratings.MIN_VOTES
    if args.matrices:
        win, count = ratings.matrices(battles)
        payload["matrices"] = {"models": battles.models, "count": count.astype(int).tolist(),
                               "win_rate": [[None if x != x else round(float(x), 4) for x in row] for row in win]}
    emit(payload, args.json, _table(rows, args.method))
    return 0


def _export(args) -> int:
    from apps.arena.store import VoteStore

    store = VoteStore(args.db)
    n = store.export_file(args.out, args.source)
    emit({"exported": n, "out": str(Path(args.out).resolve()), "db": str(store.path)}, args.json,
         f"{n} votes → {args.out}")
    return 0


def _import(args) -> int:
    from apps.arena.store import VoteStore

    store = VoteStore(args.db)
    added, skipped = store.import_file(args.votes)
    emit({"added": added, "already_there": skipped, "db": str(store.path), "total": store.count()}, args.json,
         f"{added} added, {skipped} already there ({store.path})")
    return 0


def _perplexity(args) -> int:
    from apps.arena import evals

    texts = evals.passages(read_text(args.text)) if args.text else evals.heldout(args.lang)
    results = [evals.perplexity(m, texts, window=args.window).as_dict() for m in args.model]
    text = "\n".join(f"{r['model']:<40} ppl {r['perplexity']:>9.3f}  mean loss {r['mean_loss']:.4f} nats/token  "
                     f"{r['bits_per_byte']:.4f} bits/byte  ({r['tokens']} tokens)" for r in results)
    emit({"text": args.text or str(evals.heldout_path(args.lang)), "results": results}, args.json, text)
    return 0


def _mc(args) -> int:
    from apps.arena import evals

    path = args.file or evals.mc_path(args.lang)
    questions = evals.load_mc(path)
    questions = questions[: args.limit] if args.limit else questions
    results = []
    for m in args.model:
        res = evals.multiple_choice(m, questions, args.lang)
        if not args.details:
            res.pop("questions")
        results.append(res)
    text = "\n".join(f"{r['model']:<40} acc {r['acc']:.3f}±{r['acc_stderr'] or 0:.3f}  acc_norm {r['acc_norm']:.3f} (log-lik per character, as lm-eval-harness)  "
                     f"(n={r['n']}, chance {r['chance']:.2f})" for r in results)
    emit({"file": str(path), "results": results}, args.json, text)
    return 0


def _judge(args) -> int:
    from apps.arena import judge
    from apps.arena.battles import Arena
    from apps.arena.store import VoteStore
    from apps.tasks.providers import ProviderConfig, key_from_env

    cfg = ProviderConfig(args.provider, base_url=args.base_url, model=args.judge_model,
                         api_key=key_from_env(args.provider) if args.provider != "local" else None)
    prompts = read_text(args.prompts).splitlines()
    arena = Arena(VoteStore(args.db), pool=args.contestant) if args.contestant else Arena(VoteStore(args.db))
    result = judge.fill(arena, cfg, prompts, max_new_tokens=args.max_new_tokens, both_orders=not args.one_order)
    emit(result, args.json, f"{result['judge']}: {result['stored']} verdicts stored, {result['unparsed']} unparsable")
    return 0
