"""What the RAG tab shows after a build or a question, kept language-neutral so that a language
switch can draw it again: the map's points, the stage timings and the answer with what its footer
needs. Plain values only (it lives in the page's gr.State); no gradio here.

    snap = snapshot(index, result)                  # after a search
    snap = with_answer(snap, text, report, result.hits, question, ("en",), seconds)
    map_figure(snap, "zh"), latency_figure(snap, "en"), answer_markdown(snap, "zh")
"""
from __future__ import annotations

from dataclasses import asdict

import numpy as np

from apps.i18n import t
from rag import plots, render
from rag.answer import Citations

STAGES = ("embed", "search", "rerank", "generate")


def snapshot(index, result=None) -> dict:
    """The map (n chunks → (n, 2) PCA coordinates) and, after a search, the query's place, the hits
    and the retrieval timings (seconds)."""
    coords, q = plots.pca_2d(index.vectors, result.query_vector if result is not None else None)
    snap = {"coords": np.asarray(coords, dtype=float).round(5).tolist(), "sources": [c.source for c in index.chunks],
            "query": None if q is None else [float(x) for x in q], "hits": [], "timings": None, "answer": None}
    if result is not None:
        snap["hits"] = [h.chunk.id for h in result.hits]
        snap["timings"] = {s: float(result.timings.get(s, 0.0)) for s in ("embed", "search", "rerank")}
    return snap


def with_answer(snap: dict, text: str, report: Citations, hits: list, question: str,
                languages: tuple[str, ...], seconds: float) -> dict:
    """The snapshot plus the model's answer and how long it took to generate."""
    answer = {"text": text, "report": asdict(report), "sources": [h.chunk.source for h in hits],
              "question": question, "languages": list(languages)}
    return dict(snap, answer=answer, timings=dict(snap["timings"] or {}, generate=float(seconds)))


def map_figure(snap: dict, lang: str):
    lang = plots.caption_lang(lang)
    coords = np.asarray(snap["coords"], dtype=float).reshape(-1, 2)
    query = np.asarray(snap["query"]) if snap.get("query") is not None else None
    return plots.map_figure(coords, snap["sources"], query, snap.get("hits") or [],
                            title=t("rag.map.title", lang, n=len(snap["sources"])),
                            query_label=t("rag.map.query", lang))


def latency_labels(lang: str) -> dict:
    lang = plots.caption_lang(lang)
    return {s: t(f"rag.latency.{s}", lang) for s in STAGES}


def latency_figure(snap: dict, lang: str):
    """None before any search (nothing to draw)."""
    return plots.latency_figure(snap["timings"], latency_labels(lang)) if snap.get("timings") else None


def answer_markdown(snap: dict, lang: str) -> str:
    """The answer and, under a rule, its footer (citations, language) in `lang`; "" before any answer."""
    a = snap.get("answer")
    if not a:
        return ""
    footer = render.answer_footer(Citations(**a["report"]), a["sources"], lang, a["question"], a["text"],
                                  tuple(a["languages"]))
    return f"{a['text']}\n\n---\n{footer}"
