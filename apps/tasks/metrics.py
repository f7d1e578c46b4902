"""Scores for the task lab: ROUGE-1/2/L for summaries, accuracy / macro-F1 / confusion matrix for labels.

ROUGE counts overlapping units between a candidate and a reference. Text is first NFKC-normalised
(full-width '２０２４' becomes '2024', half-width katakana full-width, ligatures split) and
lower-cased. Then: a Han character is one unit (the usual practice for zh ROUGE, also for Japanese
kanji), and so is each hiragana / katakana character (Japanese has no spaces either); a run of
Hangul syllables is one word (Korean separates words by spaces); a run of other letters or digits
(Latin, Cyrillic, Greek, … with an inner apostrophe: "don't"; a number with an inner decimal point
or thousands comma: "12.5") is one word; other punctuation and symbols are ignored. Pure Python, no dependencies:

    python -c "from apps.tasks.metrics import rouge; print(rouge('猫坐在垫子上', '一只猫坐在垫子上'))"
"""
from __future__ import annotations

import unicodedata
from collections import Counter

UNPARSED = "(unparsed)"

# (first, last) code points, after NFKC
_HAN = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x323AF), (0x3005, 0x3007))
_KANA = ((0x3040, 0x309F), (0x30A0, 0x30FF), (0x31F0, 0x31FF))
_HANGUL = ((0xAC00, 0xD7AF), (0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xD7B0, 0xD7FF))
_APOSTROPHES = "'’"


def _within(cp: int, ranges) -> bool:
    return any(lo <= cp <= hi for lo, hi in ranges)


def _kind(ch: str) -> str:
    """'single' (a unit of its own), 'hangul', 'word' (letter, digit or combining mark), or ''."""
    cp = ord(ch)
    if _within(cp, _HAN) or _within(cp, _KANA):
        return "single"
    if _within(cp, _HANGUL):
        return "hangul"
    if ch.isalnum() or unicodedata.category(ch).startswith("M"):
        return "word"
    return ""


def tokens(text: str) -> list[str]:
    """'AI芯片 sales rose' → ['ai', '芯', '片', 'sales', 'rose']; '２０２４年' → ['2024', '年'];
    'きょうは晴れ' → ['き', 'ょ', 'う', 'は', '晴', 'れ']; '안녕 세계' → ['안녕', '세계']."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    out: list[str] = []
    run, run_kind = [], ""
    for i, ch in enumerate(text):
        kind = _kind(ch)
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if run_kind == "word" and ((ch in _APOSTROPHES and _kind(nxt) == "word") or
                                   (ch in ".," and run[-1].isdigit() and nxt.isdigit())):
            run.append(ch)  # "don't", "l’été", "12.5", "1,000": one word
            continue
        if kind != run_kind or kind == "single":
            if run:
                out.append("".join(run))
            run, run_kind = [], ""
        if kind == "single":
            out.append(ch)
        elif kind:
            run.append(ch)
            run_kind = kind
    if run:
        out.append("".join(run))
    return out


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
