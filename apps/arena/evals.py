"""Automatic evals of local models: perplexity on held-out text, and multiple choice by log-likelihood.

    llmlab arena perplexity --model gemma-3-270m --lang en --json
    llmlab arena mc --model smollm2-135m-instruct --lang zh --json

Perplexity is exp(mean token loss): the loss (natural-log cross-entropy per predicted token) is
reported with it, and so is bits per byte, which unlike perplexity can be compared between models
with different tokenizers. Long texts are scored with a sliding window (stride half the window),
each token predicted once with as much left context as the window allows.

Multiple choice follows lm-evaluation-harness: for a question rendered as context ("Question: …
\\nAnswer:"), each choice is a continuation (" Paris"); its score is the summed log-probability of
the continuation's tokens given the context. `acc` takes the best sum; `acc_norm` is the harness's
definition: each sum divided by the choice's length in characters (`len(choice)` in Python, Unicode
code points, the delimiter not counted) before the argmax, so long answers are not penalised for
having more tokens. (An earlier version divided by UTF-8 bytes: a Chinese character then weighed 3
and a digit 1, which picks other answers on mixed choices such as "1949年" vs "一九四九年".)
The continuation's tokens are those of tokenize(context + continuation) beyond tokenize(context),
as the harness does, so a tokenizer that merges the space into the next word is scored correctly.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from apps.errors import LabError
from apps.userfiles import read_text

DATA = Path(__file__).resolve().parents[2] / "curriculum" / "data" / "arena"
TEMPLATES = {"en": ("Question: {question}\nAnswer:", " "), "zh": ("问题：{question}\n答案：", "")}


def _local(model, cache=None):
    """A LoadedModel from a LoadedModel, a registry name or a contestant spec (adapter allowed)."""
    if hasattr(model, "model") and hasattr(model, "tokenizer"):
        lm = model
    else:
        from apps.arena.contestants import parse

        contestant = parse(model)
        if not contestant.is_local:
            raise LabError("arena.not_lm", name=contestant.name)
        lm = contestant.load(cache)
    if lm.kind == "embedding" or lm.variant != "lm":
        raise LabError("arena.not_lm", name=lm.name)
    return lm


def heldout_path(lang: str) -> Path:
    return DATA / f"heldout.{lang}.txt"


def mc_path(lang: str) -> Path:
    return DATA / f"mc.{lang}.jsonl"


def passages(text: str) -> list[str]:
    """Held-out files hold passages separated by blank lines."""
    return [p.strip() for p in text.split("\n\n") if p.strip()]


# ---------------------------------------------------------------- perplexity


def token_losses(lm, text: str, window: int = 512) -> tuple[np.ndarray, list[int]]:
    """Loss of every predicted token of `text`: float64 (T-1,) in nats, and the token ids (T,).

    Sliding window: each forward pass sees up to `window` tokens; only tokens not scored by an
    earlier window count, so every token is scored once with >= window/2 tokens of context."""
    ids = lm.tokenizer(text, add_special_tokens=True)["input_ids"]
    if len(ids) < 2:
        raise LabError("arena.text_too_short")
    window = max(2, min(window, lm.context_length))
    stride = max(1, window // 2)
    losses = np.zeros(len(ids) - 1)
    scored_to = 1  # tokens [1, scored_to) have a loss already
    with torch.inference_mode():
        for begin in range(0, len(ids), stride):
            end = min(begin + window, len(ids))
            chunk = torch.tensor([ids[begin:end]], device=lm.device)
            logits = lm.model(input_ids=chunk).logits[0].float()  # (L, V)
            logp = torch.log_softmax(logits[:-1], dim=-1)  # predicts chunk[1:]
            nll = -logp.gather(1, chunk[0, 1:, None])[:, 0].cpu().numpy()  # (L-1,)
            first = max(scored_to, begin + 1)  # absolute index of the first new target
            losses[first - 1:end - 1] = nll[first - begin - 1:]
            scored_to = end
            if end == len(ids):
                break
    return losses, ids


@dataclass
class Perplexity:
    model: str
    tokens: int  # predicted tokens
    bytes: int
    mean_loss: float  # nats per token
    perplexity: float  # exp(mean_loss)
    bits_per_byte: float
    per_passage: list[dict] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)  # every token's loss, for the plot

    def as_dict(self, with_losses: bool = False) -> dict:
        out = {k: v for k, v in self.__dict__.items() if k != "losses"}
        if with_losses:
            out["losses"] = self.losses
        return out


def perplexity(model, texts: list[str] | str, cache=None, window: int = 512) -> Perplexity:
    """Perplexity over passages: token-weighted mean loss over all of them, plus each one's own."""
    lm = _local(model, cache)
    texts = [texts] if isinstance(texts, str) else list(texts)
    texts = [t for t in texts if t and t.strip()]
    if not texts:
        raise LabError("arena.no_text", what="held-out text")
    all_losses, rows, n_bytes = [], [], 0
    for text in texts:
        losses, _ = token_losses(lm, text, window)
        size = len(text.encode("utf-8"))
        n_bytes += size
        all_losses.append(losses)
        mean = float(losses.mean())
        rows.append({"passage": text[:60], "tokens": int(losses.size), "mean_loss": round(mean, 4),
                     "perplexity": round(math.exp(mean), 3)})
    flat = np.concatenate(all_losses)
    mean = float(flat.mean())
    return Perplexity(model=lm.name, tokens=int(flat.size), bytes=n_bytes, mean_loss=round(mean, 4),
                      perplexity=round(math.exp(mean), 3), bits_per_byte=round(float(flat.sum()) / math.log(2) / n_bytes, 4),
                      per_passage=rows, losses=[round(float(x), 4) for x in flat])


def heldout(lang: str) -> list[str]:
    path = heldout_path(lang)
    if not path.is_file():
        raise LabError("arena.no_text", what=str(path))
    return passages(read_text(path))


# ---------------------------------------------------------------- multiple choice


def load_mc(path: str | Path) -> list[dict]:
    """Questions from JSONL: {"id", "question", "choices": [str, ...], "answer": index, "lang"?}."""
    path = Path(path)
    if not path.is_file():
        raise LabError("arena.no_text", what=str(path))
    out = []
    for n, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            q = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LabError("arena.bad_mc", line=n, why=exc.msg) from exc
        choices = q.get("choices")
        if not isinstance(q.get("question"), str) or not isinstance(choices, list) or len(choices) < 2:
            raise LabError("arena.bad_mc", line=n, why="needs 'question' and at least two 'choices'")
        if not isinstance(q.get("answer"), int) or not 0 <= q["answer"] < len(choices):
            raise LabError("arena.bad_mc", line=n, why="'answer' must be the index of the right choice")
        out.append(q)
    return out


def choice_logliks(lm, context: str, continuations: list[str]) -> list[float]:
    """Summed log P(continuation | context) for each continuation, in one padded batch."""
    tok = lm.tokenizer
    ctx_ids = tok(context, add_special_tokens=True)["input_ids"]
    seqs, starts = [], []
    for cont in continuations:
        whole = tok(context + cont, add_special_tokens=True)["input_ids"]
        # the harness's split: the continuation is whatever tokenising the whole adds beyond the
        # context's own token count (our contexts end in ':' so the boundary never merges)
        seqs.append(whole)
        starts.append(min(len(ctx_ids), len(whole) - 1))
    width = max(len(s) for s in seqs)
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    input_ids = torch.tensor([s + [pad] * (width - len(s)) for s in seqs], device=lm.device)
    mask = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in seqs], device=lm.device)
    with torch.inference_mode():
        logp = torch.log_softmax(lm.model(input_ids=input_ids, attention_mask=mask).logits.float(), dim=-1)
    out = []
    for row, (seq, start) in enumerate(zip(seqs, starts)):
        targets = torch.tensor(seq[start:], device=lm.device)
        positions = torch.arange(start - 1, len(seq) - 1, device=lm.device)  # logits at t predict t+1
        out.append(float(logp[row, positions, targets].sum()))
    return out


def multiple_choice(model, questions: list[dict], lang: str = "en", cache=None, progress=None) -> dict:
    """acc, acc_norm (log-likelihood per character, as lm-evaluation-harness), their standard errors,
    and each question's scores."""
    lm = _local(model, cache)
    template, delim = TEMPLATES.get(lang, TEMPLATES["en"])
    rows, hits, hits_norm = [], 0, 0
    for k, q in enumerate(questions):
        context = template.format(question=q["question"])
        ll = np.array(choice_logliks(lm, context, [delim + c for c in q["choices"]]))
        nchars = np.array([len(c) for c in q["choices"]], dtype=float)  # the harness's completion_len
        pred, pred_norm = int(ll.argmax()), int((ll / nchars).argmax())
        hits += pred == q["answer"]
        hits_norm += pred_norm == q["answer"]
        rows.append({"id": q.get("id", k), "answer": q["answer"], "pred": pred, "pred_norm": pred_norm,
                     "logliks": [round(float(x), 4) for x in ll]})
        if progress:
            progress(k + 1, len(questions))
    n = len(questions)
    if n == 0:
        raise LabError("arena.no_text", what="questions")

    def stderr(p):  # the harness's sample standard error of a mean of 0/1 scores
        return round(math.sqrt(p * (1 - p) / (n - 1)), 4) if n > 1 else None

    acc, acc_norm = hits / n, hits_norm / n
    chance = float(np.mean([1 / len(q["choices"]) for q in questions]))
    return {"model": lm.name, "lang": lang, "n": n, "acc": round(acc, 4), "acc_stderr": stderr(acc),
            "acc_norm": round(acc_norm, 4), "acc_norm_stderr": stderr(acc_norm), "acc_norm_by": "characters",
            "chance": round(chance, 4),
            "questions": rows}
