"""Combining retrievers: reciprocal-rank fusion and a cross-scoring rerank pass.

Reciprocal-rank fusion (RRF, Cormack et al. 2009) adds w / (k0 + rank) over the retrievers a
chunk appears in. It uses ranks only, so BM25 scores (unbounded) and cosine similarities (-1..1)
never need calibrating against each other. With an English-only embedder on Chinese text the dense
list is weak, so lexical gets the larger weight by default.

The rerank pass looks at each candidate together with the query, which the first-stage retrievers
cannot: how much of the query's (IDF-weighted) vocabulary the chunk covers and how tightly those
terms cluster in one window of it. A chunk that contains "低秩" and "矩阵" and "微调" within a few
characters beats one that repeats "微调" many times. With an online cross-encoder id
(sentence-transformers CrossEncoder) the model's scores are used instead.
"""
from __future__ import annotations

import numpy as np

from rag.lexical import BM25, normalize, query_tokens


def rrf(rankings: list[list[int]], weights: list[float] | None = None, k0: int = 60) -> dict[int, float]:
    """Fuse ranked id lists (best first) into {id: score}; higher is better."""
    weights = weights or [1.0] * len(rankings)
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, doc in enumerate(ranking):
            fused[doc] = fused.get(doc, 0.0) + weight / (k0 + rank + 1)
    return fused


def coverage_scores(query: str, texts: list[str], bm25: BM25, window: int = 120) -> np.ndarray:
    """float64 (len(texts),) in [0, 1]: the IDF-weighted share of distinct query terms found in the
    best `window`-character stretch of each text, averaged with the share found anywhere in it."""
    terms = list(dict.fromkeys(query_tokens(query)))
    if not terms:
        return np.zeros(len(texts))
    idf = np.array([bm25.idf_of(t) for t in terms])
    total = idf.sum()
    out = np.zeros(len(texts))
    for i, text in enumerate(texts):
        norm = normalize(text)
        positions = [(p, j) for j, term in enumerate(terms) for p in _find_all(norm, term)]
        if not positions:
            continue
        anywhere = idf[sorted({j for _, j in positions})].sum() / total
        positions.sort()
        best, left, counts = 0.0, 0, {}
        # Sliding window over term occurrences sorted by position: the weight of distinct terms
        # whose occurrences fit inside `window` characters.
        for pos, j in positions:
            counts[j] = counts.get(j, 0) + 1
            while pos - positions[left][0] > window:
                lj = positions[left][1]
                counts[lj] -= 1
                if not counts[lj]:
                    del counts[lj]
                left += 1
            best = max(best, idf[list(counts)].sum() / total)
        out[i] = 0.5 * anywhere + 0.5 * best
    return out


def _find_all(text: str, term: str) -> list[int]:
    hits, start = [], text.find(term)
    while start != -1:
        hits.append(start)
        start = text.find(term, start + 1)
    return hits


def rerank(query: str, candidates: list[int], texts: list[str], bm25: BM25, first_stage: dict[int, float],
           alpha: float = 0.5) -> list[tuple[int, float]]:
    """Reorder candidate ids: alpha · coverage + (1 - alpha) · first-stage score scaled to [0, 1]."""
    if not candidates:
        return []
    cover = coverage_scores(query, [texts[i] for i in candidates], bm25)
    first = np.array([first_stage.get(i, 0.0) for i in candidates])
    span = first.max() - first.min()
    first = (first - first.min()) / span if span > 0 else np.ones_like(first)
    final = alpha * cover + (1 - alpha) * first
    order = np.argsort(-final, kind="stable")
    return [(candidates[o], float(final[o])) for o in order]


def cross_encoder_rerank(model_id: str, query: str, candidates: list[int], texts: list[str]) -> list[tuple[int, float]]:
    """Rerank with a sentence-transformers CrossEncoder (online machines: e.g. BAAI/bge-reranker-base)."""
    from sentence_transformers import CrossEncoder

    model = CrossEncoder(model_id)
    scores = model.predict([(query, texts[i]) for i in candidates], show_progress_bar=False)
    order = np.argsort(-np.asarray(scores), kind="stable")
    return [(candidates[o], float(scores[o])) for o in order]
