"""Checkers: compute each exercise's answer with the lab's real models and tools, then judge a reply.

    from curriculum.checkers import Answers
    from curriculum.exercises import get
    answers = Answers()                       # one per process (the app and the CLI each hold one)
    answers.expected(get("playground.tokens_zh")).value     # 10, from SmolLM2's own tokenizer
    answers.check(get("playground.tokens_zh"), "10").correct

No answer is written down anywhere: a checker tokenizes with the real tokenizer, runs the
attention extractor, builds the RAG demo index, fits Bradley–Terry…, so the answer is what the
tabs themselves show on this machine (fp32 on CPU; a GPU's bf16 may move a value, and the checker
moves with it). Computed answers are cached per `Answers` object (i.e. per process); each exercise
is computed once even when a whole class presses Check at the same moment (a lock per exercise).
"""
from __future__ import annotations

import math
import re
import threading
import time
import unicodedata
from dataclasses import dataclass, field

from apps.errors import LabError
from curriculum.exercises import Exercise

CHECKERS: dict = {}  # checker name -> fn(answers: Answers, **params) -> Expected (a registry, not user data)


def checker(fn):
    CHECKERS[fn.__name__] = fn
    return fn


@dataclass(frozen=True)
class Expected:
    """A computed answer. value: int | float | str; accept: every spelling a text answer may take."""

    value: object
    accept: tuple[str, ...] = ()
    details: dict = field(default_factory=dict, hash=False)
    seconds: float = 0.0

    def display(self) -> str:
        if isinstance(self.value, float):
            return f"{self.value:.4g}" if abs(self.value) < 100 else f"{self.value:.2f}"
        return str(self.value)


@dataclass(frozen=True)
class Verdict:
    exercise: str
    correct: bool
    answer: str  # what the student typed
    parsed: object  # the number or normalised text it was read as
    expected: str  # the computed answer, for the record and the teacher (the UI shows it only when right)
    message: str = ""  # code exercises: what the run showed (the learner's language)


# ---------------------------------------------------------------- reading answers

_QUOTES = "\"'`“”‘’「」『』《》()（）[]【】"
_TRAILING = ".,;:!?。，；：！？、 "


def normalise(text: str) -> str:
    """NFKC, case-folded, quotes and end punctuation dropped, inner whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text or "").casefold().strip()
    text = text.strip(_QUOTES + " ").rstrip(_TRAILING).strip(_QUOTES + " ")
    return re.sub(r"\s+", " ", text)


def parse_number(text: str, percent: bool = False) -> float:
    """'0.948', '94.8%', '１２', '1,234', '1e-3' → float. With percent=False a trailing % divides by 100;
    with percent=True the answer is already in percent and the sign is just dropped."""
    raw = unicodedata.normalize("NFKC", text or "").strip().replace(",", "").replace(" ", "")
    has_pct = raw.endswith("%")
    raw = raw.rstrip("%")
    try:
        value = float(raw)
    except ValueError:
        raise LabError("course.not_a_number", answer=(text or "").strip()[:40]) from None
    if not math.isfinite(value):
        raise LabError("course.not_a_number", answer=(text or "").strip()[:40])
    return value / 100 if has_pct and not percent else value


def parse_int(text: str) -> int:
    value = parse_number(text)
    if value != int(value):
        raise LabError("course.not_an_int", answer=(text or "").strip()[:40])
    return int(value)


def matches(ex: Exercise, expected: Expected, answer: str) -> tuple[bool, object]:
    """(correct, parsed answer). Empty or unreadable answers raise LabError (no attempt is recorded)."""
    if not (answer or "").strip():
        raise LabError("course.empty_answer")
    if ex.kind == "text":
        given = normalise(answer)
        return given in {normalise(a) for a in (expected.accept or (str(expected.value),))}, given
    given = parse_int(answer) if ex.kind == "int" else parse_number(answer, ex.percent)
    target = float(expected.value)
    room = max(ex.tolerance, ex.rel_tolerance * abs(target)) + 1e-9 * max(1.0, abs(target))
    return abs(given - target) <= room, given


# ---------------------------------------------------------------- the per-process answer cache

class Answers:
    """Computed answers, once per exercise per process. Shares intermediate results (a RAG index,
    an attention run) between exercises that need the same one. Thread-safe."""

    def __init__(self, cache=None):
        from apps.models import default_cache

        self.cache = cache or default_cache()
        self._answers: dict[str, Expected] = {}
        self._shared: dict = {}
        self._locks: dict = {}
        self._guard = threading.Lock()

    def _lock(self, key) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def shared(self, key, factory):
        """factory() once per key, whoever asks first; others wait for it."""
        with self._lock(("shared", key)):
            if key not in self._shared:
                self._shared[key] = factory()
            return self._shared[key]

    def model(self, name: str, attn: str = "sdpa"):
        return self.cache.get(name, attn=attn)

    def expected(self, ex: Exercise) -> Expected:
        with self._lock(("answer", ex.id)):
            if ex.id not in self._answers:
                fn = CHECKERS.get(ex.checker)
                if fn is None:
                    raise LabError("course.no_checker", id=ex.id, checker=ex.checker)
                started = time.perf_counter()
                result = fn(self, **ex.params)
                self._answers[ex.id] = Expected(result.value, result.accept, result.details,
                                                round(time.perf_counter() - started, 3))
            return self._answers[ex.id]

    def is_ready(self, ex: Exercise) -> bool:
        """True when the answer is cached (a Check will be instant)."""
        return ex.id in self._answers

    def check_code(self, ex: Exercise, source: str, lang: str = "en", classroom: bool = False,
                   teacher: bool = False, timeout: float | None = None) -> Verdict:
        """A code exercise: the learner's file run in the sandbox against the lab's outputs.
        classroom: refused (LabError) for a student where the sandbox cannot isolate learner code."""
        from curriculum.code_checks import judge

        return judge(self, ex, source, lang, classroom, teacher, timeout)

    def check(self, ex: Exercise, answer: str) -> Verdict:
        if ex.kind == "code":
            return self.check_code(ex, answer)
        expected = self.expected(ex)
        correct, parsed = matches(ex, expected, answer)
        return Verdict(ex.id, correct, (answer or "").strip(), parsed, expected.display())


# ---------------------------------------------------------------- stage 1: playground

def _greedy_first(answers: Answers, model: str, prompt: str, decoding: dict):
    from apps.models.generation import GenerationConfig, generate

    def run():
        result = generate(answers.model(model), prompt, GenerationConfig(max_new_tokens=1, **decoding))
        return result.tokens[0], result.prompt_tokens
    return answers.shared(("greedy", model, prompt, tuple(sorted(decoding.items()))), run)


@checker
def token_count(answers: Answers, model: str, text: str) -> Expected:
    from apps.models.generation import tokenize

    pieces = tokenize(answers.model(model), text)  # what the Playground shows: no special tokens
    return Expected(len(pieces), details={"tokens": [p["text"] for p in pieces]})


@checker
def greedy_first_token(answers: Answers, model: str, prompt: str, decoding: dict) -> Expected:
    token, _ = _greedy_first(answers, model, prompt, decoding)
    text = token.text.strip()
    return Expected(text, accept=(text, token.text), details={"id": token.id})


@checker
def greedy_first_prob(answers: Answers, model: str, prompt: str, decoding: dict) -> Expected:
    token, _ = _greedy_first(answers, model, prompt, decoding)
    return Expected(100.0 * math.exp(token.logprob), details={"token": token.text})


# ---------------------------------------------------------------- stage 2: attention

@checker
def attention_head(answers: Answers, model: str, text: str, layer: int, stat: str) -> Expected:
    import numpy as np

    from apps.attention.extract import extract
    from apps.attention.stats import head_stats

    def run():
        run = extract(answers.model(model, attn="eager"), text)
        return head_stats(run.attentions, run.causal)
    stats = answers.shared(("attention", model, text), run)
    per_head = getattr(stats, stat)[layer]  # (H,) float64
    return Expected(int(np.argmax(per_head)), details={stat: [round(float(x), 4) for x in per_head]})


@checker
def config_value(answers: Answers, model: str, field: str) -> Expected:
    config = answers.model(model).model.config
    return Expected(int(getattr(getattr(config, "text_config", config), field)))


# ---------------------------------------------------------------- stage 3: RAG

def _rag_index(answers: Answers, langs: tuple[str, ...], index: dict, search: dict):
    """The RAG tab's demo index over the lessons of `langs`, built and searched with the exercise's
    own settings (every one spelled out: a tuned default of the tab changes no answer)."""
    def build():
        from curriculum import DATA_DIR, lessons
        from rag.embed import Embedder
        from rag.glossary import parse
        from rag.lexical import BM25
        from rag.store import BuildConfig, RagIndex

        config = BuildConfig(**index)
        paths = [str(lesson.path) for lesson in lessons() if lesson.lang in langs]
        built = RagIndex.build(paths, config, embedder=Embedder(config.embedder, cache=answers.cache))
        glossary = parse((DATA_DIR / "rag" / search["glossary"]).read_text(encoding="utf-8"))
        built.bm25 = BM25([c.text for c in built.chunks], k1=config.bm25_k1, b=config.bm25_b, glossary=glossary,
                          **{key: search[key] for key in ("expand_weight", "unigram_weight", "latin_weight")})
        return built
    key = ("rag", langs, tuple(sorted(index.items())), tuple(sorted(search.items())))
    return answers.shared(key, build)


def _search_kwargs(search: dict) -> dict:
    return {key: search[key] for key in ("rrf_k", "pool", "cjk_dense_weight")}


@checker
def rag_eval(answers: Answers, langs: list[str], k: int, mode: str, index: dict, search: dict) -> Expected:
    from curriculum import DATA_DIR
    from rag.evaluate import evaluate, load_questions

    langs = tuple(sorted(langs, reverse=True))  # ("zh", "en"): one index whatever the order
    questions = [q for code in langs for q in load_questions(DATA_DIR / "rag" / f"lessons-{code}.jsonl")]
    report = evaluate(_rag_index(answers, langs, index, search), questions, k=k, mode=mode, **_search_kwargs(search))
    return Expected(float(report[f"hit@{k}"]), details={"mrr": report["mrr"], "n": report["n"]})


@checker
def rag_top_source(answers: Answers, langs: list[str], query: str, mode: str, index: dict, search: dict) -> Expected:
    from pathlib import Path

    from curriculum import _NAME

    langs = tuple(sorted(langs, reverse=True))
    top = _rag_index(answers, langs, index, search).search(query, k=1, mode=mode,
                                                           **_search_kwargs(search)).hits[0].chunk.source
    name = Path(top).name
    match = _NAME.match(name)
    accept = [name, name.removesuffix(".md"), Path(top).stem]
    if match:
        number, stage = int(match.group(1)), match.group(2)
        accept += [stage, f"{number:02d}-{stage}", f"lesson {number}", f"第{number}课", f"第 {number} 课", str(number)]
    return Expected(match.group(2) if match else name, accept=tuple(accept), details={"source": name})


# ---------------------------------------------------------------- stage 4: tasks and the API

@checker
def rouge(answers: Answers, candidate: str, reference: str, metric: str = "rouge1") -> Expected:
    from apps.tasks.metrics import rouge as rouge_scores

    scores = rouge_scores(candidate, reference)[metric]
    return Expected(float(scores["f"]), details={k: round(v, 4) for k, v in scores.items()})


@checker
def macro_f1(answers: Answers, gold: list[str], pred: list[str]) -> Expected:
    from apps.tasks.metrics import macro_f1 as f1

    labels = sorted(set(gold))
    return Expected(float(f1(gold, pred, labels)))


@checker
def usage_prompt_tokens(answers: Answers, model: str, messages: list[dict]) -> Expected:
    # The chat template shipped with the model itself, not the lab's rendering of the day (which may
    # change how templates are picked); tests/integration/test_course_checkers.py holds the live API to it.
    tokenizer = answers.model(model).tokenizer
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return Expected(len(tokenizer(text, add_special_tokens=False)["input_ids"]), details={"prompt": text})


# ---------------------------------------------------------------- stage 5: fine-tuning

def _lora_counts(answers: Answers, model: str, r: int, targets: str) -> dict:
    from apps.finetune.estimate import param_counts

    return param_counts(answers.model(model).path, r, targets)  # shapes from the model's own config


@checker
def lora_share(answers: Answers, model: str, r: int, targets: str) -> Expected:
    counts = _lora_counts(answers, model, r, targets)
    return Expected(100.0 * counts["lora"] / counts["total"], details=counts)


@checker
def lora_params(answers: Answers, model: str, r: int, targets: str) -> Expected:
    counts = _lora_counts(answers, model, r, targets)
    return Expected(int(counts["lora"]), details=counts)


@checker
def sft_trained_tokens(answers: Answers, model: str, messages: list[dict], max_length: int) -> Expected:
    from apps.finetune.data import IGNORE, encode_chat

    enc = encode_chat(answers.model(model).tokenizer, messages, max_length=max_length, with_text=True)
    trained = [piece for piece, label in zip(enc["pieces"], enc["labels"]) if label != IGNORE]
    return Expected(len(trained), details={"trained": trained, "total": len(enc["labels"])})


# ---------------------------------------------------------------- stage 6: evaluation

def _battles(votes):
    from apps.arena.ratings import Battles

    return Battles.from_records([{"model_a": a, "model_b": b, "winner": w} for a, b, w in votes])


@checker
def bt_top(answers: Answers, votes: list, l2: float) -> Expected:
    from apps.arena.ratings import bradley_terry

    battles = _battles(votes)
    rating = bradley_terry(battles, l2=l2)  # the exercise's regularisation, not the arena's current prior
    best = battles.models[int(rating.argmax())]
    return Expected(best, accept=(best,), details=dict(zip(battles.models, [round(float(x), 1) for x in rating])))


@checker
def elo_rating(answers: Answers, votes: list, k: float, init: float, model: str) -> Expected:
    from apps.arena.ratings import elo

    battles = _battles(votes)
    rating = elo(battles, k=k, init=init)
    return Expected(float(rating[battles.models.index(model)]),
                    details=dict(zip(battles.models, [round(float(x), 2) for x in rating])))


@checker
def perplexity(answers: Answers, model: str, lang: str, window: int) -> Expected:
    from apps.arena import evals

    result = evals.perplexity(answers.model(model), evals.heldout(lang), window=window)
    return Expected(float(result.perplexity), details={"tokens": result.tokens, "mean_loss": result.mean_loss})



# ---------------------------------------------------------------- stage 7: pretraining

@checker
def pretrain_params(answers: Answers, preset: str, vocab_size: int) -> Expected:
    from apps.pretrain.architecture import count_params
    from apps.pretrain.architecture import preset as shape_of

    counts = count_params(shape_of(preset), vocab_size)  # what LlamaForCausalLM holds for this shape
    return Expected(int(counts["total"]), details=counts)


# ---------------------------------------------------------------- stage 8: quantisation

@checker
def absmax_error(answers: Answers, model: str, weight: str, unit: float) -> Expected:
    from apps.quantize import byhand

    rt = byhand.roundtrip(byhand.weight(answers.model(model).model, weight), "absmax", 8, "tensor")
    return Expected(rt.max_err / unit, details={"mse": rt.mse, "levels_used": rt.levels_used})


from curriculum import code_checks  # noqa: E402,F401  (registers the code exercises' checkers)
