"""rag.lexical, rag.glossary, rag.hybrid, rag.vectors, rag.evaluate, rag.answer (no models needed)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from apps.errors import LabError
from rag.answer import build_messages, citations, prompt_lang
from rag.chunking import Chunk
from rag.evaluate import first_hit_rank, load_questions, squash
from rag.glossary import expansions
from rag.hybrid import coverage_scores, rrf
from rag.lexical import BM25, query_tokens, tokenize
from rag.store import Hit
from rag.vectors import VectorIndex

DOCS = [
    "LoRA 冻结原始权重，只训练两个低秩矩阵 A 和 B，可训练参数不到百分之一。",
    "注意力机制通过 Q、K、V 计算词与词之间的关联度，多头注意力并行关注不同语义。",
    "训练时显存不足（OOM）可以降低 batch_size 或启用梯度检查点。",
    "困惑度 PPL 等于平均交叉熵损失的指数，越低越好。",
    "Grouped-query attention shares one key/value head among several query heads.",
]


def test_tokenize_mixes_chinese_grams_and_english_words():
    tokens = tokenize("低秩适配 LoRA，ＧＰＴ-3 fp16")
    assert {"低", "秩", "低秩", "秩适", "适配"} <= set(tokens)
    assert "lora" in tokens and "gpt-3" in tokens and "fp16" in tokens
    assert "什么" not in query_tokens("什么是低秩适配？") and "低秩" in query_tokens("什么是低秩适配？")


def test_bm25_finds_paraphrased_chinese_questions():
    bm25 = BM25(DOCS)
    assert bm25.top("显存不够用怎么办？", 1)[0][0] == 2  # 显存 + glossary OOM
    assert bm25.top("低秩适配要训练哪些参数", 1)[0][0] == 0  # glossary: 低秩适配 ↔ LoRA
    assert bm25.top("困惑度怎么计算？", 1)[0][0] == 3
    assert bm25.top("what does grouped query attention share", 1)[0][0] == 4
    assert bm25.top("zebra", 3) == []  # no shared token: nothing, rather than arbitrary chunks
    scores = bm25.scores("注意力")
    assert scores.shape == (len(DOCS),) and scores.argmax() == 1


def test_bm25_length_normalisation_and_saturation():
    short, long_ = "注意力机制", "注意力机制" + "，无关内容" * 60
    bm25 = BM25([short, long_, "别的文本"], k1=1.2, b=0.75)
    s = bm25.scores("注意力机制")
    assert s[0] > s[1] > s[2] == 0
    flat = BM25([short, long_, "别的文本"], k1=1.2, b=0.0).scores("注意力机制")
    assert flat[0] == pytest.approx(flat[1])  # b = 0: no length normalisation


def test_glossary_expansion_is_word_bounded():
    assert "oom" in expansions("显存不够用怎么办")
    assert "lora" in expansions("低秩适配是什么")
    assert "检索增强生成" in expansions("what is RAG?")
    assert "检索增强生成" not in expansions("average storage")  # "rag" inside words is not RAG
    assert "优化器" in expansions("SGD 之外还有哪些 optimizer？") and "fp16" in expansions("半精度训练")


def test_rrf_and_coverage():
    fused = rrf([[1, 2, 3], [3, 1]], [1.0, 0.5], k0=10)
    assert max(fused, key=fused.get) == 1 and set(fused) == {1, 2, 3}
    bm25 = BM25(DOCS)
    cover = coverage_scores("低秩矩阵 可训练参数", DOCS, bm25)
    assert cover.argmax() == 0 and 0 < cover.max() <= 1


def _unit(n, d, seed=0):
    x = np.random.default_rng(seed).standard_normal((n, d)).astype("float32")
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_vector_indexes_agree_with_exact_search(kind, tmp_path):
    data, queries = _unit(2000, 32), _unit(20, 32, seed=1)
    exact = np.argsort(-(queries @ data.T), axis=1)[:, :10]
    index = VectorIndex.build(data, kind, nprobe=8 if kind == "ivf" else None)
    scores, ids = index.search(queries, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ids, exact)])
    assert recall == 1.0 if kind == "flat" else recall > 0.6
    assert np.all(np.diff(scores, axis=1) <= 1e-6)  # best first
    index.save(str(tmp_path / "i.faiss"))
    again = VectorIndex.load(str(tmp_path / "i.faiss"), kind, index.params)
    assert np.array_equal(again.search(queries, 10)[1], ids)
    with pytest.raises(LabError):
        index.search(_unit(1, 16), 3)
    with pytest.raises(LabError):
        VectorIndex.build(data, "annoy")


def test_ivf_on_a_tiny_corpus_still_works():
    index = VectorIndex.build(_unit(12, 8), "ivf")
    assert index.params["nlist"] == 1 and index.search(_unit(1, 8), 20)[1].shape == (1, 12)


def test_evaluate_helpers(tmp_path):
    assert squash("LoRA 微调\n") == "lora微调"
    assert first_hit_rank(["无关", "使用 lora 微调"], ["LoRA微调"]) == 2
    assert first_hit_rank(["无关"], ["LoRA"]) is None
    good = tmp_path / "q.jsonl"
    good.write_text(json.dumps({"question": "问", "answer": "答"}, ensure_ascii=False) + "\n\n", encoding="utf-8")
    assert load_questions(good)[0]["answers"] == ["答"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "ok", "answers": ["a"]}\n{"question": "no answers"}\n', encoding="utf-8")
    with pytest.raises(LabError) as info:
        load_questions(bad)
    assert info.value.key == "rag.bad_questions" and info.value.params["line"] == 2


def test_prompt_numbers_sources_and_citations_are_parsed():
    hits = [Hit(Chunk(i, f"docs/{i}.md", 0, len(t), t), 1.0 / (i + 1), i + 1) for i, t in enumerate(DOCS[:3])]
    messages = build_messages("LoRA 训练哪些参数？", hits)
    assert messages[0]["role"] == "system" and "[编号]" in messages[0]["content"]
    user = messages[1]["content"]
    assert "[1] (0.md)" in user and "[3] (2.md)" in user and "LoRA 训练哪些参数？\n\n请用中文回答。" in user
    short = build_messages("What is LoRA?", hits, max_chars=60)[1]["content"]
    assert "[1]" in short and "[3]" not in short and "Sources" in short
    assert prompt_lang("什么是 LoRA？") == "zh" and prompt_lang("What is LoRA?") == "en"
    assert citations("见 [2]，以及 [1][2] 和 [9]", 3) == [2, 1]
    with pytest.raises(LabError):
        build_messages("  ", hits)
