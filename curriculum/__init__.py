"""The lab's curriculum: one lesson per stage in zh and en, plus data the stages use.

    from curriculum import lessons, LESSONS_DIR
    for lesson in lessons(lang="zh"):
        print(lesson.stage, lesson.title, lesson.path)

Lessons live in `curriculum/lessons/<NN>-<stage>.<lang>.md`; the title is the first "# " heading.
The RAG tab uses them as its demo corpus; other tabs may link to their own stage's lesson.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
LESSONS_DIR = ROOT / "lessons"
DATA_DIR = ROOT / "data"
_NAME = re.compile(r"^(\d+)-([a-z0-9_-]+)\.(zh|en)\.md$")


@dataclass(frozen=True)
class Lesson:
    path: Path
    number: int
    stage: str  # playground | attention | rag | api | finetune | evaluation
    lang: str  # zh | en
    title: str

    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")


def _title(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return path.stem


def lessons(lang: str | None = None, stage: str | None = None) -> list[Lesson]:
    """All lessons sorted by number then language, optionally filtered by lang and/or stage."""
    found = []
    for path in sorted(LESSONS_DIR.glob("*.md")):
        match = _NAME.match(path.name)
        if not match:
            continue
        number, name, code = int(match.group(1)), match.group(2), match.group(3)
        if (lang and code != lang) or (stage and name != stage):
            continue
        found.append(Lesson(path, number, name, code, _title(path)))
    return found


def lesson_paths(lang: str | None = None) -> list[Path]:
    return [lesson.path for lesson in lessons(lang)]
