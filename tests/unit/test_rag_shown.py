"""apps.retrieval.shown: what the RAG tab shows is kept as plain values and drawn again in either
language (a language switch re-renders the map, the latency captions and the answer's footer)."""
from __future__ import annotations

import json

import numpy as np

from apps.i18n import t
from apps.plotting import caption_lang
from apps.retrieval import shown
from rag.answer import citation_report
from rag.chunking import Chunk
from rag.store import BuildConfig, Hit, RagIndex, SearchResult
from rag.vectors import VectorIndex


def _index_and_result():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(6, 8)).astype("float32")
    chunks = [Chunk(i, f"docs/lesson-{i % 2 + 1}.md", 0, 10, f"chunk {i}") for i in range(6)]
    index = RagIndex(chunks, vectors, VectorIndex.build(vectors), None, BuildConfig())
    hits = [Hit(chunks[2], 0.9, 1), Hit(chunks[5], 0.8, 2)]
    result = SearchResult("why?", "dense", hits, {"embed": 0.01, "search": 0.002, "rerank": 0.0}, vectors[2])
    return index, result


def test_the_snapshot_is_plain_values_and_redraws_in_both_languages():
    index, result = _index_and_result()
    snap = shown.snapshot(index, result)
    report = citation_report("GQA shares keys [2].", 2)
    snap = shown.with_answer(snap, "GQA shares keys [2].", report, result.hits, "为什么？", ("en",), 1.5)
    snap = json.loads(json.dumps(snap))  # a gr.State value: nothing but JSON-able data
    assert snap["hits"] == [2, 5] and snap["timings"]["generate"] == 1.5

    zh, en = shown.answer_markdown(snap, "zh"), shown.answer_markdown(snap, "en")
    assert zh.startswith("GQA shares keys [2].") and "引用：[2] lesson-2.md" in zh and "无法可靠地用中文回答" in zh
    assert "Cited: [2] lesson-2.md" in en and "引用" not in en
    for lang in ("zh", "en"):
        cap = caption_lang(lang)
        the_map = shown.map_figure(snap, lang)
        assert the_map.axes[0].get_title() == t("rag.map.title", cap, n=6)
        bars = [label.get_text() for label in shown.latency_figure(snap, lang).axes[0].get_yticklabels()]
        assert bars == [t(f"rag.latency.{s}", cap) for s in shown.STAGES]


def test_nothing_shown_yet_draws_nothing():
    index, _ = _index_and_result()
    snap = shown.snapshot(index)  # after a build: the map only
    assert shown.latency_figure(snap, "en") is None and shown.answer_markdown(snap, "en") == ""
    assert shown.map_figure(snap, "en").axes[0].get_title() == t("rag.map.title", "en", n=6)


def test_hit_cards_come_back_from_the_snapshot_in_either_language():
    import gradio as gr

    from apps.retrieval import view

    index, result = _index_and_result()
    snap = json.loads(json.dumps(view._with_cards(shown.snapshot(index, result), index, result)))
    zh, en = view.redraw("zh", snap)[3], view.redraw("en", snap)[3]
    assert t("rag.hits.score", "zh") in zh and t("rag.hits.score", "en") in en
    assert t("rag.hits.score", "zh") != t("rag.hits.score", "en") and "chunk 2" in zh and "chunk 5" in en
    assert view.redraw("en", shown.snapshot(index))[3] == gr.update()  # a build only: cards left as they are
