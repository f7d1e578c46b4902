"""`llmlab class`: set up a classroom server from the shell (the teacher's side of apps.auth).

    llmlab class create "NLP 2026" [--json]        # prints the join code and the teacher password
    llmlab class list [--json]
    llmlab class roster list [--class NAME] [--json]
    llmlab class roster add --csv students.csv     # one name per row (first column; header "name" skipped)
    llmlab class roster add --name "Li Lei" --name "Han Meimei"
    llmlab class roster reset --name "Li Lei"      # prints a new one-time password
    llmlab class roster remove --name "Li Lei"
    llmlab class settings [--set max_new_tokens=256 --set base_urls=http://10.0.0.5:8000/v1]

Then `llmlab serve --mode classroom --host 0.0.0.0`. --class may be left out while there is one
class. The database is $LLMLAB_CLASS_DB, else ~/.cache/llmlab/class.db.
"""
from __future__ import annotations

import argparse
import csv
from pathlib import Path

from apps import cliargs
from apps.errors import LabError


def register(subparsers) -> None:
    parser = subparsers.add_parser("class", help="classroom mode: create a class, manage its roster and settings",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="class_action", required=True)

    def add(name, help_, func):
        p = sub.add_parser(name, help=help_)
        p.add_argument("--json", action="store_true", help="print JSON")
        p.set_defaults(func=func)
        return p

    p = add("create", "create a class: prints its join code and the teacher password", _create)
    p.add_argument("name", help="the class name, e.g. 'NLP 2026'")
    add("list", "list the classes and their join codes", _list)
    p = add("roster", "list, add, reset or remove students", _roster)
    p.add_argument("roster_action", choices=("list", "add", "reset", "remove"), help="what to do")
    p.add_argument("--class", dest="class_name", help="class name or join code (default: the only class)")
    p.add_argument("--name", action="append", default=[], help="a student's display name (repeatable)")
    p.add_argument("--csv", type=cliargs.readable_text_file, help="CSV file of names (first column; a header row 'name' is skipped)")
    p = add("settings", "show or change quotas and allowlists", _settings)
    p.add_argument("--class", dest="class_name", help="class name or join code (default: the only class)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="e.g. max_new_tokens=256, models=a,b (lists are comma separated)")


def _store():
    from apps.auth.store import ClassStore

    return ClassStore()


def names_from_csv(path: str | Path) -> list[str]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            rows = [r for r in csv.reader(handle) if r and r[0].strip()]
    except OSError as exc:
        raise LabError("auth.bad_csv", path=str(path), why=str(exc)) from None
    if rows and rows[0][0].strip().lower() in ("name", "names", "姓名", "名字"):
        rows = rows[1:]
    return [r[0].strip() for r in rows]


def _create(args) -> int:
    from apps.cli import emit

    info = _store().create_class(args.name)
    emit(info, args.json, f"class: {info['name']}\njoin code: {info['code']}\n"
         f"teacher: sign in with the code, the name '{info['teacher_name']}' and the password "
         f"{info['teacher_password']}\n(the password is shown only now)")
    return 0


def _list(args) -> int:
    from apps.cli import emit

    rows = _store().classes()
    emit(rows, args.json, "\n".join(f"{r['name']}  code {r['code']}" for r in rows) or "no classes")
    return 0


def _roster(args) -> int:
    from apps.cli import emit

    store = _store()
    class_id = store.class_id(args.class_name)
    action = args.roster_action
    names = list(args.name) + (names_from_csv(args.csv) if args.csv else [])
    if action == "list":
        rows = store.roster(class_id)
        emit(rows, args.json, "\n".join(f"{r['name']:<24} {r['role']:<8} {'password set' if r['has_password'] else 'no password yet'}"
                                        for r in rows))
        return 0
    if not names:
        raise LabError("auth.need_names")
    if action == "add":
        out = store.add_students(class_id, names)
        emit(out, args.json, f"added {len(out['added'])}, already there {len(out['existing'])}")
    elif action == "reset":
        out = {name: store.reset_password(class_id, name) for name in names}
        emit(out, args.json, "\n".join(f"{n}: new password {p}" for n, p in out.items()))
    else:
        for name in names:
            store.remove(class_id, name)
        emit({"removed": names}, args.json, f"removed {len(names)}")
    return 0


def _settings(args) -> int:
    from apps.cli import emit

    store = _store()
    class_id = store.class_id(args.class_name)
    changes = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise LabError("auth.bad_setting", setting=item, keys="KEY=VALUE")
        changes[key.strip()] = value
    settings = store.update_settings(class_id, **changes) if changes else store.settings(class_id)
    emit(settings, args.json, "\n".join(f"{k} = {v}" for k, v in settings.items()))
    return 0
