"""Classroom exercises: 2–4 per roadmap stage, each a bilingual question whose answer the lab computes.

    from curriculum.exercises import exercises, get, STAGES
    for ex in exercises(stage="attention"):
        print(ex.id, ex.prompt_in("en"))
    ex = get("playground.tokens_zh")

One module per stage (`playground.py`, `attention.py`, `rag.py`, `api.py`, `finetune.py`,
`evaluation.py`, `pretrain.py`, `quantize.py`, `alignment.py`) holds an `EXERCISES` list. An exercise names a checker in `curriculum.checkers`
and the parameters it runs with; nothing here stores an answer: the checker computes it with the
lab's real models and tools (see checkers.py), so an exercise stays right when a model changes.

Code exercises (kind "code") ask for a Python function instead of a value: `code/<name>.starter.py`
is what the editor starts with, `code/<name>.py` the worked solution the teacher can reveal; the
checker (curriculum.code_checks) computes the real thing's outputs and the learner's function runs
in curriculum.sandbox on the same inputs.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from apps.errors import LabError

# The roadmap, in order: (stage of the lesson, key of the tab where it is practised).
STAGES: tuple[tuple[str, str], ...] = (
    ("playground", "playground"),
    ("attention", "attention"),
    ("rag", "rag"),
    ("api", "tasks"),
    ("finetune", "finetune"),
    ("evaluation", "arena"),
    ("pretrain", "pretrain"),
    ("quantize", "quantize"),
    ("alignment", "finetune"),  # DPO trains in the Fine-tuning tab; the Arena collects the votes
)
STAGE_TAB = dict(STAGES)
KINDS = ("int", "number", "text", "code")
CODE_DIR = Path(__file__).resolve().parent / "code"


@dataclass(frozen=True)
class Exercise:
    """One question. Texts are (zh, en) pairs in Markdown; `checker` names a function in
    curriculum.checkers.CHECKERS, called with `params`.

    kind: "int" (exact unless `tolerance`), "number" (|given − answer| ≤ tolerance, or
    ≤ rel_tolerance·|answer|) or "text" (normalised, any accepted spelling).
    percent: the answer is stated in percent (0.34 means 0.34 %); a "%" typed after a plain number
    otherwise divides it by 100 (94.8% == 0.948).
    code: for kind "code", the name of its files in CODE_DIR (starter and worked solution)."""

    id: str
    stage: str
    title: tuple[str, str]
    prompt: tuple[str, str]
    hint: tuple[str, str]
    checker: str
    params: dict = field(default_factory=dict, hash=False)
    kind: str = "text"
    tolerance: float = 0.0
    rel_tolerance: float = 0.0
    percent: bool = False
    models: tuple[str, ...] = ()  # registry models the checker loads (for the teacher's overview)
    code: str = ""

    def starter(self) -> str:
        return (CODE_DIR / f"{self.code}.starter.py").read_text(encoding="utf-8") if self.code else ""

    def solution(self) -> str:
        return (CODE_DIR / f"{self.code}.py").read_text(encoding="utf-8") if self.code else ""

    def title_in(self, lang: str) -> str:
        return self.title[0] if lang == "zh" else self.title[1]

    def prompt_in(self, lang: str) -> str:
        return self.prompt[0] if lang == "zh" else self.prompt[1]

    def hint_in(self, lang: str) -> str:
        return self.hint[0] if lang == "zh" else self.hint[1]

    @property
    def tab(self) -> str:
        return STAGE_TAB[self.stage]


def _validate(ex: Exercise) -> Exercise:
    if ex.stage not in STAGE_TAB or not ex.id.startswith(f"{ex.stage}.") or ex.kind not in KINDS:
        raise ValueError(f"bad exercise definition {ex.id!r} (stage {ex.stage!r}, kind {ex.kind!r})")
    for pair in (ex.title, ex.prompt, ex.hint):
        if len(pair) != 2 or not all(s.strip() for s in pair):
            raise ValueError(f"exercise {ex.id!r} needs zh and en texts")
    if (ex.kind == "code") != bool(ex.code) or (ex.code and not (CODE_DIR / f"{ex.code}.py").is_file()):
        raise ValueError(f"code exercise {ex.id!r} needs its files in {CODE_DIR}")
    return ex


@lru_cache(maxsize=1)
def _all() -> tuple[Exercise, ...]:
    found, seen = [], set()
    for stage, _tab in STAGES:
        module = importlib.import_module(f"{__name__}.{stage}")
        for ex in module.EXERCISES:
            _validate(ex)
            if ex.id in seen:
                raise ValueError(f"exercise id {ex.id!r} defined twice")
            seen.add(ex.id)
            found.append(ex)
    return tuple(found)


def exercises(stage: str | None = None) -> list[Exercise]:
    """All exercises in roadmap order, or one stage's."""
    return [ex for ex in _all() if stage is None or ex.stage == stage]


def ids() -> list[str]:
    return [ex.id for ex in _all()]


def get(exercise_id: str) -> Exercise:
    for ex in _all():
        if ex.id == exercise_id:
            return ex
    raise LabError("course.unknown_exercise", id=exercise_id, choices=", ".join(ids()))
