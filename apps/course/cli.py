"""`llmlab course`: list the exercises, check an answer (recorded as progress), see or export progress.

    llmlab course list [--json]
    llmlab course check playground.tokens_zh 10 --student "Li Lei" [--json]   # exit 0 right, 1 wrong, 2 bad input
    llmlab course check playground.top_p_code --file top_p.py [--json]        # a code exercise: run sandboxed
    llmlab course progress [--student NAME] [--export progress.csv|progress.jsonl] [--json]

The progress database is $LLMLAB_PROGRESS_DB, else lab_home()/progress.db, or --db. Texts are in
English unless LLMLAB_LANG=zh (or --lang zh).
"""
from __future__ import annotations

import os
from pathlib import Path

from apps import cliargs
from apps.cli import emit
from apps.errors import LabError
from apps.i18n import t
from curriculum import exercises as ex_mod
from curriculum.progress import Attempt, ProgressStore, clean_name


def register(sub) -> None:
    course = sub.add_parser("course", help="the curriculum's exercises: list, check answers, class progress")
    cmds = course.add_subparsers(dest="course_command", required=True)

    def common(p, db=True):
        p.add_argument("--json", action="store_true", help="print JSON")
        p.add_argument("--lang", choices=["zh", "en"], default=None, help="language of texts (default $LLMLAB_LANG or en)")
        if db:
            p.add_argument("--db", default=None, help="progress database (default $LLMLAB_PROGRESS_DB or lab_home()/progress.db)")

    p = cmds.add_parser("list", help="every exercise, stage by stage")
    p.add_argument("--stage", choices=[s for s, _ in ex_mod.STAGES], help="only this stage's exercises")
    common(p, db=False)
    p.set_defaults(func=_list)

    p = cmds.add_parser("check", help="check an answer with the real models and record it; exit 0 right, 1 wrong")
    p.add_argument("exercise", help="exercise id, e.g. playground.tokens_zh (see `llmlab course list`)")
    p.add_argument("answer", nargs="?", default=None, help="the answer (a number, or text); not for code exercises")
    p.add_argument("--file", default=None, help="code exercises: the .py file defining the function (run sandboxed)")
    p.add_argument("--student", default="", help="the student's name (recorded with the attempt)")
    p.add_argument("--no-record", action="store_true", help="check only; do not add the attempt to the progress database")
    common(p)
    p.set_defaults(func=_check)

    p = cmds.add_parser("progress", help="class summary (per-exercise solve rate, per-student counts), or one student's")
    p.add_argument("--student", default=None, help="show this student's solved exercises instead")
    p.add_argument("--export", default=None, type=cliargs.writable_file, help="write every attempt to this .csv or .jsonl file (atomically)")
    common(p)
    p.set_defaults(func=_progress)


def _lang(args) -> str:
    return args.lang or ("zh" if os.environ.get("LLMLAB_LANG", "en").startswith("zh") else "en")


def _list(args) -> int:
    lang = _lang(args)
    items = [{"id": e.id, "stage": e.stage, "tab": e.tab, "kind": e.kind, "title": e.title_in(lang),
              "prompt": e.prompt_in(lang), "hint": e.hint_in(lang), "tolerance": e.tolerance,
              "rel_tolerance": e.rel_tolerance, "percent": e.percent, "models": list(e.models)}
             for e in ex_mod.exercises(args.stage)]
    width = max(len(i["id"]) for i in items)
    text = "\n".join(f"{i['id']:<{width}}  {i['kind']:<6}  {i['title']}" for i in items)
    emit(items, args.json, text)
    return 0


def _check(args) -> int:
    from curriculum.checkers import Answers

    lang = _lang(args)
    exercise = ex_mod.get(args.exercise)
    student = clean_name(args.student)
    if exercise.kind == "code":
        verdict = Answers().check_code(exercise, _read_code(args), lang=lang)
    elif args.file is not None:
        raise LabError("course.code.needs_answer")
    else:
        verdict = Answers().check(exercise, args.answer or "")  # bad input raises LabError → exit 2
    if not args.no_record:
        ProgressStore(args.db).record(Attempt(exercise=exercise.id, stage=exercise.stage, answer=verdict.answer,
                                              correct=verdict.correct, student=student, session="cli",
                                              expected=verdict.expected, lang=lang))
    payload = {"exercise": exercise.id, "correct": verdict.correct, "answer": verdict.answer,
               "parsed": verdict.parsed, "recorded": not args.no_record, "student": student}
    if exercise.kind == "code":
        payload.update(answer=args.file, parsed=None, status=verdict.parsed)
        text = verdict.message
    elif verdict.correct:
        payload["expected"] = verdict.expected
        text = t("course.correct", lang, expected=verdict.expected)
    else:
        text = t("course.wrong", lang, answer=verdict.answer)
    payload["message"] = text.replace("**", "")
    emit(payload, args.json, payload["message"])
    return 0 if verdict.correct else 1


def _read_code(args) -> str:
    if not args.file:
        raise LabError("course.code.needs_file")
    try:
        return Path(args.file).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LabError("course.code.bad_file", path=args.file, why=exc.__class__.__name__) from None


def _progress(args) -> int:
    store = ProgressStore(args.db)
    ids = ex_mod.ids()
    exported = str(store.export(args.export).resolve()) if args.export else None
    if args.student is not None:
        payload = store.student_progress(args.student, "cli", ids)
        text = f"{payload['student']}: {payload['n_solved']}/{payload['n_total']}\n" + \
            "\n".join(f"  ✓ {i}" for i in payload["solved"])
    else:
        payload = store.class_summary(ids)
        lines = [f"{payload['n_students']} students, {payload['n_attempts']} attempts", "",
                 f"{'exercise':<28} {'solved':>6} {'tried':>6} {'rate':>6} {'attempts':>8}"]
        lines += [f"{e['exercise']:<28} {e['solved']:>6} {e['students']:>6} {e['solve_rate']:>6.0%} {e['attempts']:>8}"
                  for e in payload["exercises"]]
        lines += ["", f"{'student':<28} {'solved':>6} {'attempts':>8}"]
        lines += [f"{s['student']:<28} {s['solved']:>6} {s['attempts']:>8}" for s in payload["students"]]
        text = "\n".join(lines)
    payload = {**payload, "db": str(store.path), "exported": exported}
    emit(payload, args.json, text + (f"\n\n→ {exported}" if exported else ""))
    return 0
