"""Lexical retrieval that works for Chinese and English: BM25 over mixed tokens.

Chinese has no spaces, so a word tokenizer would need a dictionary (jieba) that misses domain terms
like "位置编码" or "灾难性遗忘". Character unigrams + bigrams need none: every Chinese word of two
characters is a bigram, longer words are runs of overlapping bigrams, and unigrams rescue one-
character words. Latin runs ("LoRA", "gpt-3", "fp16") become lowercase words. Query-side function
words ("什么", "如何", "哪些"…) are dropped: they are rare in prose, so BM25 would give them a
high IDF and rank chunks that happen to ask questions.

    bm25 = BM25([c.text for c in chunks]); scores = bm25.scores("什么是低秩适配？")   # (n_docs,)
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter

import numpy as np
from scipy import sparse

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]+|[a-z0-9]+(?:[._+\-][a-z0-9]+)*")
_IS_CJK = re.compile(rf"[{_CJK}]")

# Words that make a sentence a question but say nothing about its topic. Removed from queries only.
QUERY_STOP_WORDS = {
    "什么", "是什", "么是", "哪些", "哪个", "哪种", "哪里", "如何", "怎么", "怎样", "为什", "为何", "是否",
    "多少", "请问", "一下", "介绍", "简述", "说明", "解释", "有哪", "有什", "什么样", "吗", "呢", "么",
    "啥", "哪", "呀", "吧", "请", "的", "了", "是", "有", "和", "与", "在", "中", "及", "或", "我", "你",
    "它", "这", "那", "些", "个", "种", "要", "会", "能", "可", "以", "可以", "需要", "应该", "主要",
    "一个", "一种", "通常", "时候", "作用", "意思", "指的", "的是", "是指",
    "what", "which", "how", "why", "when", "where", "who", "is", "are", "was", "were", "do", "does",
    "did", "the", "a", "an", "of", "to", "in", "on", "for", "and", "or", "it", "its", "this", "that",
    "be", "can", "with", "by", "as", "at", "from", "about", "me", "i", "you", "we", "they", "there",
    "should", "would", "could", "mean", "means", "explain", "describe", "tell",
}


_STOP: set[str] = set()  # QUERY_STOP_WORDS as tokens, filled below once s_stem exists


def normalize(text: str) -> str:
    """NFKC folds full-width letters/digits (ＧＰＴ３ → gpt3) and punctuation; then lowercase."""
    return unicodedata.normalize("NFKC", text).lower()


def s_stem(word: str) -> str:
    """Harman's "S" stemmer: plurals to singular (queries → query, heads → head, biases → biase),
    nothing more aggressive, so "gpus"/"gpu" meet while "bias"/"loss" stay whole."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if word.endswith("s") and not word.endswith(("us", "ss")):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Mixed zh/en tokens: CJK runs → unigrams + bigrams, Latin/digit runs → words (plurals folded)."""
    tokens: list[str] = []
    for run in _TOKEN.findall(normalize(text)):
        if _IS_CJK.match(run):
            tokens.extend(run)
            tokens.extend(run[i:i + 2] for i in range(len(run) - 1))
        else:
            tokens.append(s_stem(run))
    return tokens


def query_tokens(text: str) -> list[str]:
    return [tok for tok in tokenize(text) if tok not in _STOP]


class BM25:
    """Okapi BM25 over a fixed list of texts. k1 saturates term frequency, b normalises by length.

    The document side is precomputed once as a sparse matrix W (n_docs, n_terms) holding each
    term's full BM25 weight in each document, so a query is one sparse column slice and a sum.
    """

    def __init__(self, texts: list[str], k1: float = 1.2, b: float = 0.75, expand_weight: float = 0.5,
                 unigram_weight: float = 1.0, latin_weight: float = 3.0, glossary: list[list[str]] | None = None):
        self.k1, self.b, self.expand_weight = k1, b, expand_weight
        self.glossary = glossary  # synonym groups for query expansion; None: rag.glossary.GROUPS
        self.unigram_weight, self.latin_weight = unigram_weight, latin_weight
        self.vocab: dict[str, int] = {}
        rows, cols, vals = [], [], []
        lengths = np.zeros(len(texts), dtype=np.float64)
        for d, text in enumerate(texts):
            counts = Counter(tokenize(text))
            lengths[d] = sum(counts.values())
            for tok, n in counts.items():
                rows.append(d)
                cols.append(self.vocab.setdefault(tok, len(self.vocab)))
                vals.append(n)
        n_docs = max(len(texts), 1)
        tf = sparse.csr_matrix((vals, (rows, cols)), shape=(len(texts), len(self.vocab)), dtype=np.float64)
        df = np.bincount(tf.indices, minlength=len(self.vocab))
        # The "+1 inside the log" variant keeps every IDF positive (Lucene's choice).
        self.idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5))
        avgdl = lengths.mean() if len(texts) else 1.0
        norm = k1 * (1 - b + b * lengths / max(avgdl, 1e-9))  # (n_docs,)
        tf = tf.tocoo()
        weight = tf.data * (k1 + 1) / (tf.data + norm[tf.row]) * self.idf[tf.col]
        self.W = sparse.csc_matrix((weight, (tf.row, tf.col)), shape=tf.shape)
        self.n_docs = len(texts)

    def query_vector(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        """(term ids, weights) of the query's known tokens. Repeated terms count sub-linearly (sqrt:
        "注意力 注意力机制" should not drown the rest); glossary synonyms of query terms (rag.glossary)
        join at `expand_weight`, never above the query's own tokens."""
        from rag.glossary import expansions

        counts = Counter(t for t in query_tokens(query) if t in self.vocab)
        weights = {t: math.sqrt(n) * self.token_weight(t) for t, n in counts.items()}
        if self.expand_weight > 0:
            extra = Counter(t for term in expansions(query, self.glossary) for t in query_tokens(term) if t in self.vocab)
            for t in extra:
                weights.setdefault(t, self.expand_weight * self.token_weight(t))
        ids = np.fromiter((self.vocab[t] for t in weights), dtype=np.int64, count=len(weights))
        return ids, np.fromiter(weights.values(), dtype=np.float64, count=len(weights))

    def token_weight(self, token: str) -> float:
        """A Chinese word of n characters yields 2n-1 tokens, an English word one: without this
        balance "自然语言处理" (11 tokens) outvotes "spaCy" however rare spaCy is."""
        if not _IS_CJK.match(token):
            return self.latin_weight
        return self.unigram_weight if len(token) == 1 else 1.0

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for `query`, float64 (n_docs,)."""
        ids, weights = self.query_vector(query)
        if len(ids) == 0:
            return np.zeros(self.n_docs)
        return np.asarray(self.W[:, ids] @ weights).ravel()

    def top(self, query: str, k: int) -> list[tuple[int, float]]:
        scores = self.scores(query)
        k = min(k, self.n_docs)
        if k <= 0:
            return []
        idx = np.argpartition(-scores, k - 1)[:k]
        idx = idx[np.argsort(-scores[idx], kind="stable")]
        return [(int(i), float(scores[i])) for i in idx if scores[i] > 0]

    def idf_of(self, token: str) -> float:
        i = self.vocab.get(token)
        return float(self.idf[i]) if i is not None else math.log(1 + (self.n_docs + 0.5) / 0.5)


_STOP.update(QUERY_STOP_WORDS, (s_stem(w) for w in QUERY_STOP_WORDS if w.isascii()))
