"""Rewards for GRPO: a spec string → trl reward functions `f(prompts, completions, **kw) -> list[float]`.

    format          1 when the reply ends a sentence (. ! ? 。！？ …), else 0
    length:N        1 at exactly N characters, falling linearly to 0 at 0 or 2N characters
    keyword:WORD    1 when WORD appears in the reply (case-insensitive), else 0
    model:RUN       a reward model trained in the lab: RUN is its run id or folder, scored by
                    apps.align.reward.load_scorer(folder)(prompts, replies) -> list[float]
    a+b             several rewards, summed by trl (each also logged on its own as rewards/<name>/mean)

    fns = build("keyword:cat+format")       # check(spec) first: cheap, raises LabError, loads nothing
    fns[0](prompts=["Say cat"], completions=["A cat."]) == [1.0]

Characters, not tokens, so a zh reply and an en reply of the same length on screen score the same.
"""
from __future__ import annotations

import re
from pathlib import Path

from apps.errors import LabError

KINDS = ("format", "length", "keyword", "model")
MAX_LENGTH = 4096
_SENTENCE_END = re.compile(r"[.!?。！？…][\"'”’)）]*$")


def text_of(completion) -> str:
    """trl passes a string (plain prompts) or [{"role": "assistant", "content": ...}] (chat prompts)."""
    if isinstance(completion, list):
        return "".join(str(m.get("content", "")) for m in completion if isinstance(m, dict))
    return str(completion)


def _parts(spec: str) -> list[tuple[str, str]]:
    parts = []
    for part in str(spec or "").split("+"):
        kind, _, arg = part.strip().partition(":")
        parts.append((kind.strip().lower(), arg.strip()))
    return parts


CHOICES = "format, length:N, keyword:WORD, model:RUN"


def _bad(spec: str, need: str) -> LabError:
    return LabError("finetune.grpo_bad_reward", spec=spec, need=need, choices=CHOICES)


def reward_model_folder(arg: str, root: Path | None = None, user=None) -> Path:
    """The folder of a reward-model run: a run id under the runs root (checked against `user`, who
    must own it or teach its owner) or, for the trusted local caller (user None), any folder."""
    from apps.finetune import runs

    root = Path(root) if root else runs.runs_root()
    candidate = root / arg
    if "/" not in arg and "\\" not in arg and arg not in ("", ".", "..") and candidate.is_dir():
        runs.get_run(arg, root, user=user)  # someone else's run reads as missing
        return candidate
    if user is not None:  # a student names runs, never paths on the server
        raise LabError("finetune.no_run", run_id=arg)
    folder = Path(arg).expanduser()
    if not folder.is_dir():
        raise LabError("finetune.no_run", run_id=arg)
    return folder


def check(spec: str, root: Path | None = None, user=None) -> str:
    """Refuse a bad spec with a message (zh/en) before anything loads; returns the spec."""
    parts = _parts(spec)
    for kind, arg in parts:
        if kind not in KINDS:
            raise LabError("finetune.grpo_unknown_reward", spec=spec, kind=kind, choices=CHOICES)
        if kind == "format" and arg:
            raise _bad(spec, "format")
        if kind == "keyword" and not arg:
            raise _bad(spec, "keyword:WORD")
        if kind == "length" and not (arg.isdigit() and 1 <= int(arg) <= MAX_LENGTH):
            raise _bad(spec, f"length:N (N = 1…{MAX_LENGTH})")
        if kind == "model":
            if not arg:
                raise _bad(spec, "model:RUN")
            reward_model_folder(arg, root, user)
    return spec


def pin(spec: str, root: Path | None = None, user=None) -> str:
    """The spec with each model:RUN made an absolute folder, after checking `user` may use it: the
    training process (which knows no user, and may see another runs root) scores with exactly that."""
    check(spec, root, user)
    return "+".join(f"model:{reward_model_folder(arg, root, user).resolve()}" if kind == "model"
                    else f"{kind}:{arg}" if arg else kind for kind, arg in _parts(spec))


# ---- the reward functions (trl logs each under rewards/<__name__>/mean) ----

def format_reward(prompts, completions, **_) -> list[float]:
    return [1.0 if _SENTENCE_END.search(text_of(c).strip()) else 0.0 for c in completions]


def _length(target: int):
    def length_reward(prompts, completions, **_) -> list[float]:
        return [max(0.0, 1.0 - abs(len(text_of(c).strip()) - target) / target) for c in completions]

    return length_reward


def _keyword(word: str):
    word = word.lower()

    def keyword_reward(prompts, completions, **_) -> list[float]:
        return [1.0 if word in text_of(c).lower() else 0.0 for c in completions]

    return keyword_reward


def _model(folder: Path):
    from apps.align.reward import load_scorer

    scorer = load_scorer(str(folder))  # loaded once, in the training process

    def model_reward(prompts, completions, **_) -> list[float]:
        return [float(x) for x in scorer([text_of(p) for p in prompts], [text_of(c) for c in completions])]

    return model_reward


def build(spec: str, root: Path | None = None, user=None) -> list:
    """Reward functions for trl's GRPOTrainer (reward_funcs=...), in the order the spec names them."""
    check(spec, root, user)
    made = []
    for kind, arg in _parts(spec):
        if kind == "format":
            made.append(format_reward)
        elif kind == "length":
            made.append(_length(int(arg)))
        elif kind == "keyword":
            made.append(_keyword(arg))
        else:
            made.append(_model(reward_model_folder(arg, root, user)))
    return made
