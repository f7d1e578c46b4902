"""`llmlab align …`: preference data from the Arena's votes and reward-model scores from the shell.

    llmlab align prefs --output prefs.jsonl [--include judge --include import] [--db arena.db] [--json]
    llmlab finetune --objective reward --data prefs.jsonl --max-steps 40      # train a reward model
    llmlab align score --model runs/<id> --prompt "Say hi" --reply "Hello!" [--json]

The shell is the machine's owner (personal mode's user): `prefs` sees every vote in the database.
"""
from __future__ import annotations

from apps import cliargs
from apps.cli import emit


def register(sub) -> None:
    align = sub.add_parser("align", help="alignment: preference pairs from arena votes, reward-model scores")
    cmds = align.add_subparsers(dest="align_command", required=True)

    p = cmds.add_parser("prefs", help="write the arena's decided human votes as {prompt, chosen, rejected} JSONL")
    p.add_argument("--output", required=True, type=cliargs.writable_file, help="JSONL file to write (atomically)")
    p.add_argument("--include", action="append", choices=["judge", "import"], default=[],
                   help="also use votes of this source (repeatable; default: human votes only)")
    p.add_argument("--db", default=None, help="SQLite vote database (default $LLMLAB_ARENA_DB or lab_home()/arena.db)")
    p.add_argument("--json", action="store_true", help="print the counts as JSON")
    p.set_defaults(func=_prefs)

    p = cmds.add_parser("score", help="score one reply to one prompt with a trained reward model")
    p.add_argument("--model", required=True, help="a finished reward run's folder (or its reward/ folder)")
    p.add_argument("--prompt", required=True, help="the user's prompt")
    p.add_argument("--reply", required=True, help="the reply to score")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_score)


def _prefs(args) -> int:
    from apps.align import prefs
    from apps.arena.store import VoteStore
    from apps.auth.users import LOCAL
    from apps.errors import LabError
    from apps.i18n import t

    store = VoteStore(args.db)
    rows, counts = prefs.preferences(store, LOCAL, tuple(["human", *args.include]))
    if not rows:
        raise LabError("align.no_pairs", **{k: v for k, v in counts.items() if k != "sources"})
    path = prefs.export_jsonl(rows, args.output)
    emit({**counts, "output": str(path), "db": str(store.path)}, args.json,
         t("align.prefs.summary", cliargs.lang(), path=path, **{k: v for k, v in counts.items() if k != "sources"}))
    return 0


def _score(args) -> int:
    from apps.align import reward
    from apps.errors import LabError
    from apps.i18n import t

    for name in ("prompt", "reply"):
        if not getattr(args, name).strip():
            raise LabError("align.empty_text", name="--" + name)
    folder = reward.reward_folder(args.model)  # a wrong path is refused before any model loads
    value = reward.score(folder, args.prompt, args.reply)
    emit({"score": value, "model": str(folder)}, args.json, t("align.score.result", cliargs.lang(), score=value))
    return 0
