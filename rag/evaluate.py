"""Retrieval evaluation: hit@k and MRR over a JSONL of questions with expected answer substrings.

Each line: {"question": "…", "answers": ["substring", …]} (also accepted: "answer": "…",
"expected": […]). A retrieved chunk counts as right when it contains any expected substring, after
both are normalised (NFKC, lowercase, whitespace removed), so "LoRA 微调" matches "lora微调".

    python -m rag eval runs/rag-demo curriculum/data/rag/lessons-zh.jsonl -k 5 --mode hybrid --json
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

from apps.errors import LabError
from apps.userfiles import read_text
from rag.lexical import normalize

_SPACE = re.compile(r"\s+")


def squash(text: str) -> str:
    return _SPACE.sub("", normalize(text))


def load_questions(path: str | Path) -> list[dict]:
    """JSONL → [{"question": str, "answers": [str, …], …}]. Bad lines raise rag.bad_questions."""
    path = Path(path)
    if not path.exists():
        raise LabError("rag.not_found", name=str(path))
    items = []
    for n, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            answers = row.get("answers") or row.get("expected") or row.get("answer")
            answers = [answers] if isinstance(answers, str) else list(answers or [])
            if not row["question"].strip() or not answers:
                raise ValueError("needs a question and at least one expected answer")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise LabError("rag.bad_questions", path=str(path), line=n, reason=str(exc)[:120]) from exc
        items.append({**row, "answers": answers})
    if not items:
        raise LabError("rag.bad_questions", path=str(path), line=0, reason="no questions")
    return items


def first_hit_rank(texts: list[str], answers: list[str]) -> int | None:
    """1-based rank of the first text containing any answer, or None."""
    wanted = [squash(a) for a in answers if squash(a)]
    for rank, text in enumerate(texts, 1):
        flat = squash(text)
        if any(a in flat for a in wanted):
            return rank
    return None


def evaluate(index, questions: list[dict], k: int = 5, mode: str | None = None, **search_kwargs) -> dict:
    """hit@k, MRR@k and per-question ranks for a RagIndex. search_kwargs go to index.search."""
    from rag.store import DEFAULT_MODE

    mode = mode or DEFAULT_MODE
    rows, reciprocal, hits, started = [], 0.0, 0, time.perf_counter()
    vectors = [None] * len(questions)
    if mode != "lexical":  # one batched forward pass instead of one per question
        vectors = index.embedder.encode([item["question"] for item in questions], use_cache=False)
    for item, vector in zip(questions, vectors):
        result = index.search(item["question"], k=k, mode=mode, query_vector=vector, **search_kwargs)
        rank = first_hit_rank([h.chunk.text for h in result.hits], item["answers"])
        hits += rank is not None
        reciprocal += 1.0 / rank if rank else 0.0
        rows.append({"question": item["question"], "rank": rank,
                     "top_source": result.hits[0].chunk.source if result.hits else None})
    n = len(questions)
    return {"mode": mode, "k": k, "n": n, f"hit@{k}": round(hits / n, 4), "mrr": round(reciprocal / n, 4),
            "seconds": round(time.perf_counter() - started, 3), "questions": rows}
