"""`llmlab space`: put the lab on a Hugging Face Space.

    llmlab space header [--check] [--json]      # the README header Spaces read (--check: the root README's)
    llmlab space build DIR [--json]             # a ready-to-push Space folder
    llmlab space push --repo OWNER/NAME [--dir DIR] [--dry-run] [--json]

Bad input exits 2 with a message (LLMLAB_LANG=zh for Chinese).
"""
from __future__ import annotations

import argparse

from apps.errors import LabError


def register(subparsers) -> None:
    p = subparsers.add_parser("space", help="build or push the lab as a Hugging Face Space",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("action", choices=("header", "build", "push"))
    p.add_argument("dir", nargs="?", default=None, help="build: the new folder; push: the built folder")
    p.add_argument("--dir", dest="dir_opt", default=None, help="push: the built folder (default dist/space)")
    p.add_argument("--repo", default=None, help="push: the Space id OWNER/NAME")
    p.add_argument("--dry-run", action="store_true", help="push: list what would be uploaded, send nothing")
    p.add_argument("--check", action="store_true", help="header: check the root README's header as Spaces would")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    from apps.cli import emit
    from apps.space import build as builder
    from apps.space import header

    if args.action == "header":
        if not args.check:
            emit({"header": header.render()}, args.json, header.render())
            return 0
        meta = header.parse((builder.ROOT / "README.md").read_text(encoding="utf-8"))
        issues = header.problems(meta, builder.ROOT) if meta else ["README.md has no header"]
        emit({"ok": not issues, "problems": issues, "header": meta}, args.json,
             "ok" if not issues else "\n".join(issues))
        return 0 if not issues else 2
    folder = args.dir or args.dir_opt
    if args.action == "build":
        if not folder:
            raise LabError("space.need_dir")
        r = builder.build(folder)
        emit(r, args.json, f"{r['path']}: {r['files']} files, {r['bytes'] / 2**20:.1f} MB — "
             f"`llmlab space push --dir {r['path']} --repo OWNER/NAME`")
        return 0
    if not args.repo:
        raise LabError("space.bad_repo", repo="")
    r = builder.push(folder or "dist/space", args.repo, dry_run=args.dry_run)
    emit(r, args.json, ("would upload" if r["dry_run"] else "uploaded") +
         f" {len(r['files'])} files ({r['bytes'] / 2**20:.1f} MB) to spaces/{r['repo']}")
    return 0
