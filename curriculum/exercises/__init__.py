"""Classroom exercises: 2–4 per roadmap stage, each a bilingual question whose answer the lab computes.

    from curriculum.exercises import exercises, get, STAGES
    for ex in exercises(stage="attention"):
        print(ex.id, ex.prompt_in("en"))
    ex = get("playground.tokens_zh")

One module per stage (`playground.py`, `attention.py`, `rag.py`, `api.py`, `finetune.py`,
`evaluation.py`) holds an `EXERCISES` list. An exercise names a checker in `curriculum.checkers`
and the parameters it runs with; nothing here stores an answer: the checker computes it with the
lab's real models and tools (see checkers.py), so an exercise stays right when a model changes.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import lru_cache

from apps.errors import LabError

# The roadmap, in order: (stage of the lesson, key of the tab where it is practised).
STAGES: tuple[tuple[str, str], ...] = (
    ("playground", "playground"),
    ("attention", "attention"),
    ("rag", "rag"),
    ("api", "tasks"),
    ("finetune", "finetune"),
    ("evaluation", "arena"),
)
STAGE_TAB = dict(STAGES)
KINDS = ("int", "number", "text")


@dataclass(frozen=True)
class Exercise:
    """One question. Texts are (zh, en) pairs in Markdown; `checker` names a function in
    curriculum.checkers.CHECKERS, called with `params`.

    kind: "int" (exact unless `tolerance`), "number" (|given − answer| ≤ tolerance, or
    ≤ rel_tolerance·|answer|) or "text" (normalised, any accepted spelling).
    percent: the answer is stated in percent (0.34 means 0.34 %); a "%" typed after a plain number
    otherwise divides it by 100 (94.8% == 0.948)."""

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
