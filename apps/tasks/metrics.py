"""Scores for the task lab: ROUGE-1/2/L for summaries, accuracy / macro-F1 / confusion matrix for labels.

ROUGE counts overlapping units between a candidate and a reference. Chinese has no spaces, so a
Chinese character is one unit (the usual practice for zh ROUGE); runs of Latin letters or digits are
one lower-cased word each; punctuation is ignored. Pure Python, no dependencies:

    python -c "from apps.tasks.metrics import rouge; print(rouge('猫坐在垫子上', '一只猫坐在垫子上'))"
"""
from __future__ import annotations

import re
from collections import Counter

# CJK ideographs (+ extension A, compatibility) are single tokens; Latin/digit runs are words.
_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[A-Za-z0-9\u00c0-\u024f]+(?:['’][A-Za-z]+)?")

UNPARSED = "(unparsed)"


def tokens(text: str) -> list[str]:
    """'AI芯片 sales rose' → ['ai', '芯', '片', 'sales', 'rose']."""
    return [m.group(0).lower() for m in _TOKEN.finditer(text or "")]


def _prf(overlap: int, n_cand: int, n_ref: int) -> dict:
    p = overlap / n_cand if n_cand else 0.0
    r = overlap / n_ref if n_ref else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": p, "r": r, "f": f}


def rouge_n(candidate: list[str], reference: list[str], n: int) -> dict:
    """Clipped n-gram overlap → precision, recall, F1 (each in [0, 1])."""
    def grams(seq):
        return Counter(tuple(seq[i:i + n]) for i in range(len(seq) - n + 1))
    cand, ref = grams(candidate), grams(reference)
    overlap = sum((cand & ref).values())
    return _prf(overlap, sum(cand.values()), sum(ref.values()))


def lcs_length(a: list[str], b: list[str]) -> int:
    """Longest common subsequence length, O(len(a)·len(b)) time, O(len(b)) memory."""
    if not a or not b:
        return 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, 1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


def rouge(candidate: str, reference: str) -> dict:
    """{'rouge1': {p, r, f}, 'rouge2': …, 'rougeL': …} for one candidate against one reference."""
    cand, ref = tokens(candidate), tokens(reference)
    return {
        "rouge1": rouge_n(cand, ref, 1),
        "rouge2": rouge_n(cand, ref, 2),
        "rougeL": _prf(lcs_length(cand, ref), len(cand), len(ref)),
    }


def rouge_best(candidate: str, references: list[str]) -> dict:
    """Against several references, each measure takes the best-matching one (by F1)."""
    scores = [rouge(candidate, r) for r in references if r]
    if not scores:
        return rouge(candidate, "")
    return {k: max((s[k] for s in scores), key=lambda d: d["f"]) for k in scores[0]}


def average_rouge(per_item: list[dict]) -> dict:
    """Mean F1 per measure over items: {'rouge1': 0.41, 'rouge2': …, 'rougeL': …}."""
    if not per_item:
        return {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
    return {k: sum(s[k]["f"] for s in per_item) / len(per_item) for k in ("rouge1", "rouge2", "rougeL")}


# ---------------------------------------------------------------- classification

def accuracy(gold: list[str], pred: list[str | None]) -> float:
    """Share of items whose prediction equals the gold label; an unparsed answer (None) is wrong."""
    if not gold:
        return 0.0
    return sum(g == p for g, p in zip(gold, pred)) / len(gold)


def per_label(gold: list[str], pred: list[str | None], labels: list[str]) -> dict[str, dict]:
    """{label: {precision, recall, f1, support}}; unparsed predictions count as misses."""
    out = {}
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, pred))
        fp = sum(g != label and p == label for g, p in zip(gold, pred))
        fn = sum(g == label and p != label for g, p in zip(gold, pred))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        out[label] = {"precision": prec, "recall": rec, "f1": f1, "support": tp + fn}
    return out


def macro_f1(gold: list[str], pred: list[str | None], labels: list[str]) -> float:
    """Unweighted mean F1 over the labels that occur in gold or predictions (sklearn's convention)."""
    seen = [lab for lab in labels if lab in gold or lab in pred]
    if not seen:
        return 0.0
    scores = per_label(gold, pred, seen)
    return sum(s["f1"] for s in scores.values()) / len(seen)


def confusion_matrix(gold: list[str], pred: list[str | None], labels: list[str]) -> tuple[list[list[int]], list[str]]:
    """Counts, rows = gold label (len(labels)), columns = predicted label plus a last column for
    unparsed answers. Returns (matrix: int (L, L+1), column names)."""
    index = {lab: i for i, lab in enumerate(labels)}
    columns = [*labels, UNPARSED]
    matrix = [[0] * len(columns) for _ in labels]
    for g, p in zip(gold, pred):
        if g not in index:
            continue
        matrix[index[g]][index.get(p, len(labels)) if p is not None else len(labels)] += 1
    return matrix, columns


def classification_report(gold: list[str], pred: list[str | None], labels: list[str]) -> dict:
    """Everything the UI and CLI show for a classification run."""
    matrix, columns = confusion_matrix(gold, pred, labels)
    return {
        "n": len(gold),
        "accuracy": accuracy(gold, pred),
        "macro_f1": macro_f1(gold, pred, labels),
        "unparsed": sum(p is None for p in pred),
        "per_label": per_label(gold, pred, labels),
        "confusion": matrix,
        "columns": columns,
        "labels": labels,
    }
