"""Code exercises: the inputs a learner's function is called on, and the lab's own answers for them.

    from curriculum.checkers import Answers
    answers = Answers()
    verdict = answers.check_code(get("playground.top_p_code"), open("solution.py").read(), lang="en")
    verdict.correct, verdict.message

Each checker here returns an `Expected` whose value is a `CodeCase`: the argument tuples to call
the learner's function with, and the outputs of the real thing on the same arguments (the
engine's TopPLogitsWarper, SmolLM2's own attention head, the arena's Elo, the RAG chunker, the
quantize tab's absmax, the `tokenizers` BPE trainer, peft's LoRA layer, the DPO loss). The
learner's code runs in `curriculum.sandbox`; only the arguments go in and only the outputs come
out, so the reference answers never reach learner code. Comparisons say what differs, in the
learner's language (i18n keys course.code.*).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Callable

import torch

from curriculum.checkers import Answers, Expected, checker

Mismatch = tuple  # (i18n key, params) saying how an output differs; None when it matches


@dataclass(frozen=True)
class CodeCase:
    function: str
    calls: list  # argument tuples
    expected: list  # the real thing's output for each call
    compare: Callable  # (expected, got, call_number) -> Mismatch | None


# ---------------------------------------------------------------- comparing outputs

def _describe(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"tensor{tuple(value.shape)}"
    return type(value).__name__


def tensors(atol: float, rtol: float = 0.0, inf_mask: bool = False) -> Callable:
    """Tensors of the expected shape whose values agree within atol + rtol·|expected|; with inf_mask
    the -inf positions must be the same and only the finite ones are compared."""
    def compare(want, got, n):
        if isinstance(want, (list, tuple)):
            if not isinstance(got, (list, tuple)) or len(got) != len(want):
                return "course.code.wrong_type", {"n": n, "want": f"a tuple of {len(want)}", "got": _describe(got)}
            for w, g in zip(want, got):
                found = compare(w, g, n)
                if found:
                    return found
            return None
        if not isinstance(got, torch.Tensor):
            return "course.code.wrong_type", {"n": n, "want": "a torch.Tensor", "got": _describe(got)}
        if tuple(got.shape) != tuple(want.shape):
            return "course.code.wrong_shape", {"n": n, "want": tuple(want.shape), "got": tuple(got.shape)}
        want, got = want.double(), got.double()
        if inf_mask:
            kept_want, kept_got = torch.isfinite(want), torch.isfinite(got)
            if not torch.equal(kept_want, kept_got):
                return "course.code.wrong_kept", {"n": n, "want": int(kept_want.sum()), "got": int(kept_got.sum())}
            want, got = want[kept_want], got[kept_want]
        if not torch.isfinite(got).all():
            return "course.code.not_finite", {"n": n}
        diff = (got - want).abs()
        room = atol + rtol * want.abs()
        if (diff > room).any():
            return "course.code.wrong_values", {"n": n, "diff": f"{float(diff.max()):.3g}", "tol": f"{atol:.0e}"}
        return None
    return compare


def plain(value):
    """Tuples as lists, tensors and numbers as floats: how two answers are compared for equality."""
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, torch.Tensor):
        return value.tolist()
    return value


def exact(want, got, n):
    if plain(got) != plain(want):
        return "course.code.wrong_value", {"n": n, "want": _short(plain(want)), "got": _short(plain(got))}
    return None


def _short(value, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def numbers(tol: float) -> Callable:
    """A number, or a tuple of numbers, each within tol."""
    def compare(want, got, n):
        want_l, got_l = plain(want), plain(got)
        want_l = want_l if isinstance(want_l, list) else [want_l]
        got_l = got_l if isinstance(got_l, list) else [got_l]
        ok = len(got_l) == len(want_l) and all(
            isinstance(g, (int, float)) and not isinstance(g, bool) and math.isfinite(g) and abs(g - w) <= tol
            for w, g in zip(want_l, got_l))
        if not ok:
            return "course.code.wrong_value", {"n": n, "want": _short([round(w, 4) for w in want_l]),
                                               "got": _short(got_l)}
        return None
    return compare


# ---------------------------------------------------------------- stage 1: top-p

def _next_logits(answers: Answers, model: str, prompt: str) -> torch.Tensor:
    """(1, V) float32 logits of the next token after `prompt` (plain text, no chat template)."""
    lm = answers.model(model)
    ids = lm.tokenizer(prompt, return_tensors="pt").input_ids.to(lm.device)
    with lm.lock, torch.no_grad():
        return lm.model(ids).logits[:, -1, :].float().cpu()


@checker
def top_p_code(answers: Answers, model: str, prompts: list[str], ps: list[float]) -> Expected:
    from apps.models.generation import GenerationConfig, _processors

    calls, expected = [], []
    for prompt in prompts:
        logits = _next_logits(answers, model, prompt)
        for p in ps:
            procs = _processors(GenerationConfig(do_sample=True, top_p=p))  # what the engine samples with
            calls.append((logits, p))
            expected.append(procs(torch.zeros(1, 1, dtype=torch.long), logits.clone()))
    return Expected(CodeCase("top_p_filter", calls, expected, tensors(1e-6, inf_mask=True)))


# ---------------------------------------------------------------- stage 2: one attention head

@checker
def attention_head_code(answers: Answers, model: str, texts: list[str], layer: int, heads: list[int]) -> Expected:
    """q, k (after RoPE) and v of one head of SmolLM2's layer, and that head's own output: the slice
    of what the model feeds into o_proj (captured with hooks during a real forward pass)."""
    import sys

    from apps.attention.recipes import attention_modules

    lm = answers.model(model)
    attn = attention_modules(lm.model)[layer]
    rotary = sys.modules[type(attn).__module__].apply_rotary_pos_emb
    hd = attn.head_dim
    calls, expected = [], []
    for text in texts:
        seen: dict = {}
        ids = lm.tokenizer(text, return_tensors="pt").input_ids.to(lm.device)
        with lm.lock, torch.no_grad():  # hooks on a shared model: nobody else may run it meanwhile
            hooks = [attn.register_forward_pre_hook(lambda _m, a, kw: seen.update(kw), with_kwargs=True),
                     attn.o_proj.register_forward_pre_hook(lambda _m, a: seen.update(o_in=a[0]))]
            try:
                lm.model(ids, use_cache=False)
            finally:
                for hook in hooks:
                    hook.remove()
            x = seen["hidden_states"]  # (1, T, d)
            shape = (*x.shape[:-1], -1, hd)
            q = attn.q_proj(x).view(shape).transpose(1, 2)  # (1, H, T, hd)
            k = attn.k_proj(x).view(shape).transpose(1, 2)  # (1, KV, T, hd)
            v = attn.v_proj(x).view(shape).transpose(1, 2)
            q, k = rotary(q, k, *seen["position_embeddings"])
        group = q.shape[1] // k.shape[1]  # grouped-query attention: query heads share K/V heads
        for head in heads:
            kv = head // group
            calls.append((q[0, head].float().cpu(), k[0, kv].float().cpu(), v[0, kv].float().cpu()))
            expected.append(seen["o_in"][0, :, head * hd:(head + 1) * hd].float().cpu())  # (T, hd)
    return Expected(CodeCase("causal_attention", calls, expected, tensors(1e-4, 1e-4)))


# ---------------------------------------------------------------- stage 3: a sentence chunker

@checker
def chunker_code(answers: Answers, stage: str, sizes: list[int]) -> Expected:
    from curriculum import lessons
    from rag.chunking import chunk_document, sentence_spans
    from rag.loaders import Document

    calls, expected = [], []
    for lang in ("zh", "en"):
        text = lessons(lang=lang, stage=stage)[0].text()[:1800]
        longest = max(e - s for s, e in sentence_spans(text))
        for size in sizes:
            size = max(size, longest)  # the exercise promises no sentence is longer than a chunk
            calls.append((text, size))
            expected.append([c.text for c in chunk_document(Document("lesson", text), size=size, overlap=0)])
    return Expected(CodeCase("chunk_sentences", calls, expected, exact))


# ---------------------------------------------------------------- stage 5: LoRA

@checker
def lora_code(answers: Answers, shapes: list[list[int]], r: int, alpha: float, seed: int = 0) -> Expected:
    """peft's own LoRA layer around a Linear; B is set non-zero (peft starts it at 0) so it counts."""
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    calls, expected = [], []
    for d_in, d_out, tokens in shapes:
        base = torch.nn.Sequential()
        base.add_module("proj", torch.nn.Linear(d_in, d_out, bias=False))
        model = get_peft_model(base, LoraConfig(r=r, lora_alpha=alpha, target_modules=["proj"], lora_dropout=0.0))
        layer = model.base_model.model.proj
        with torch.no_grad():
            layer.lora_B["default"].weight.normal_(0, 0.1)
            x = torch.randn(tokens, d_in)
            out = model(x)
        calls.append((x, layer.base_layer.weight.detach().clone(), layer.lora_A["default"].weight.detach().clone(),
                      layer.lora_B["default"].weight.detach().clone(), float(alpha), int(r)))
        expected.append(out.detach())
    return Expected(CodeCase("lora_forward", calls, expected, tensors(1e-5, 1e-4)))


# ---------------------------------------------------------------- stage 6: the Elo update

@checker
def elo_code(answers: Answers, strengths: dict, n: int, k: float, seed: int = 0) -> Expected:
    """Each call is one vote of a synthetic arena log: the ratings before it, the score and K; the
    expected output is the ratings the arena's elo() holds after it."""
    from apps.arena.ratings import INIT, Battles, elo, synthetic

    records = synthetic(strengths, n, seed=seed)

    def after(i: int) -> dict:
        if i == 0:
            return {}
        battles = Battles.from_records(records[:i])
        return dict(zip(battles.models, elo(battles, k=k).tolist()))

    calls, expected, init = [], [], float(INIT)
    for i, rec in enumerate(records):
        before, now = after(i), after(i + 1)
        a, b = rec["model_a"], rec["model_b"]
        score = {"model_a": 1.0, "model_b": 0.0}.get(rec["winner"], 0.5)
        calls.append((before.get(a, init), before.get(b, init), score, float(k)))
        expected.append((now[a], now[b]))
    return Expected(CodeCase("elo_update", calls, expected, numbers(1e-6)))


# ---------------------------------------------------------------- stage 7: one BPE merge

def bpe_first_merge(words: list[list[str]]) -> tuple[tuple[str, str], list[list[str]]]:
    """The `tokenizers` BPE trainer (the library the Pretrain tab trains with), stopped after one
    merge: that merge, and every word re-tokenized with it."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    alphabet = sorted({ch for word in words for ch in word})
    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    trainer = trainers.BpeTrainer(vocab_size=len(alphabet) + 1, show_progress=False, initial_alphabet=alphabet)
    tk.train_from_iterator([" ".join("".join(w) for w in words)], trainer=trainer)
    merge = json.loads(tk.to_str())["model"]["merges"][0]
    merge = tuple(merge.split(" ")) if isinstance(merge, str) else tuple(merge)
    return merge, [tk.encode("".join(w)).tokens for w in words]


@checker
def bpe_merge_code(answers: Answers, corpora: list[str]) -> Expected:
    calls, expected = [], []
    from collections import Counter

    for corpus in corpora:
        words = [list(w) for w in corpus.split()]
        top = Counter(pair for w in words for pair in zip(w, w[1:])).most_common(2)
        if len(top) > 1 and top[0][1] == top[1][1]:  # a tie would make the tie-break the lesson
            raise ValueError(f"corpus {corpus!r} has no single most frequent pair")
        merge, merged = bpe_first_merge(words)
        calls.append((words,))
        expected.append((merge, merged))
    return Expected(CodeCase("bpe_merge_step", calls, expected, exact))


# ---------------------------------------------------------------- stage 8: absmax int8

@checker
def absmax_code(answers: Answers, model: str, weights: list[str], rows: int, cols: int) -> Expected:
    """Slices of SmolLM2's real weight matrices through the Quantize tab's by-hand absmax, one scale
    per row: (codes, dequantised weights)."""
    from apps.quantize import byhand

    model_obj = answers.model(model).model
    calls, expected = [], []
    for name in weights:
        w = byhand.weight(model_obj, name)[:rows, :cols].clone()
        q, scale, zero = byhand.quantize(w, "absmax", 8, "channel")
        calls.append((w,))
        expected.append((q, byhand.dequantize(q, scale, zero, "channel")))
    return Expected(CodeCase("absmax_int8", calls, expected, _codes_then_values))


def _codes_then_values(want, got, n):
    """Codes may differ by one where w/scale lands on .5 (rounding of a float division); values
    then differ by at most one step."""
    if not isinstance(got, (list, tuple)) or len(got) != 2:
        return "course.code.wrong_type", {"n": n, "want": "(q, w_hat)", "got": _describe(got)}
    q_want, w_want = want
    found = tensors(1.0)(q_want.double(), got[0], n)
    if found:
        return found
    if (got[0].double() != q_want.double()).double().mean() > 0.001:
        return "course.code.wrong_values", {"n": n, "diff": "1", "tol": "0"}
    step = float((w_want.abs().amax(dim=1) / 127).max())
    return tensors(step * 1.001)(w_want, got[1], n)


# ---------------------------------------------------------------- stage 9: the DPO loss

def dpo_loss(pi_chosen: float, pi_rejected: float, ref_chosen: float, ref_rejected: float, beta: float) -> float:
    """-log σ(β·[(log π(y_w) − log π_ref(y_w)) − (log π(y_l) − log π_ref(y_l))]), trl's "sigmoid" loss."""
    margin = (pi_chosen - ref_chosen) - (pi_rejected - ref_rejected)
    return float(-torch.nn.functional.logsigmoid(torch.tensor(beta * margin, dtype=torch.float64)))


@checker
def dpo_code(answers: Answers, pairs: list[list[float]], betas: list[float]) -> Expected:
    calls = [(*pair, beta) for pair in pairs for beta in betas]
    return Expected(CodeCase("dpo_loss", calls, [dpo_loss(*c) for c in calls], numbers(1e-5)))


@checker
def dpo_start_loss(answers: Answers, beta: float) -> Expected:
    """Step 0 of DPO: the policy is the reference, every log-ratio is 0."""
    return Expected(dpo_loss(-12.0, -15.0, -12.0, -15.0, beta))


# ---------------------------------------------------------------- judging a learner's file

MAX_SOURCE = 20_000  # characters


def judge(answers: Answers, ex, source: str, lang: str = "en", classroom: bool = False, teacher: bool = False,
          timeout: float | None = None):
    """Run the learner's `source` on the exercise's inputs in the sandbox and compare with the lab's
    outputs. Returns a Verdict whose message says why, in `lang`. Raises LabError for input that is
    not an attempt (empty, too long) and, in a classroom whose sandbox cannot isolate learner code
    (sandbox.isolation), for every student: only a teacher may run code there."""
    from apps.errors import LabError
    from apps.i18n import t
    from curriculum import sandbox
    from curriculum.checkers import Verdict

    if not (source or "").strip():
        raise LabError("course.code.empty")
    if len(source) > MAX_SOURCE:
        raise LabError("course.code.too_long", max=MAX_SOURCE)
    iso = sandbox.isolation(classroom)
    if classroom and not iso.ok and not teacher:
        raise LabError(iso.reason)
    case: CodeCase = answers.expected(ex).value
    report = sandbox.run([sandbox.Job(source, case.function, case.calls)], timeout=timeout or sandbox.WALL_SECONDS,
                         classroom=classroom)
    why = mismatch(report, case)
    if why is None:
        text = t("course.code.correct", lang, name=case.function, n=len(case.calls), seconds=report.seconds)
    else:
        text = t("course.code.wrong", lang, why=t(why[0], lang, **why[1]))
    return Verdict(ex.id, why is None, source[:2000], report.status, f"{len(case.calls)} cases", message=text)


def mismatch(report, case: CodeCase, job: int = 0):
    """None when every output of job `job` matches, else (i18n key, params) of the first thing wrong."""
    if report.status == "timeout":
        return "course.code.timeout", {"seconds": round(report.seconds)}
    if report.status != "ok":
        return "course.code.crashed", {"detail": report.detail.strip()[-400:] or "?"}
    result = report.results[job]
    if not result.ok:
        if result.error.startswith("missing:"):
            return "course.code.missing", {"name": case.function}
        if result.error.startswith("memory:"):
            return "course.code.memory", {}
        return "course.code.error", {"error": result.error}
    for n, (want, got) in enumerate(zip(case.expected, result.outputs), start=1):
        found = case.compare(want, got, n)
        if found:
            return found
    return None
