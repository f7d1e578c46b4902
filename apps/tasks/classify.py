"""Text classification four ways, all scored on the same test items:

- zero-shot: ask a chat model for one label from the list;
- few-shot: the same prompt with labelled examples from the training items;
- embedding: cosine similarity between the text's and each label name's sentence embedding;
- trained: logistic regression on the training items' embeddings.

    python -m apps.cli tasks classify --data curriculum/data/tasks/headlines_en.jsonl --method embedding --json

Items marked `split: train` are the examples (few-shot) and the training set (trained); the rest are
scored. Without split marks, about a third of each label's items are taken for training, in file order.
A model's raw answer is parsed tolerantly (case, quotes, punctuation, "Label: …", a label inside a
sentence); an answer naming no label is kept as unparsed and counts as wrong, never dropped.
"""
from __future__ import annotations

import re

from apps.errors import LabError
from apps.tasks import batch, metrics
from apps.tasks.providers import ProviderConfig, chat, estimate_cost

METHODS = ("zero-shot", "few-shot", "embedding", "trained")
DEFAULT_EMBEDDER = "all-minilm-l6-v2"

TEMPLATES = {
    "zh": "请把下面这条新闻标题归入以下类别之一：{labels}。\n只回答类别名称，不要解释。\n{examples}\n标题：{text}\n类别：",
    "en": "Classify the headline into exactly one of these categories: {labels}.\n"
          "Answer with the category name only.\n{examples}\nHeadline: {text}\nCategory:",
}
EXAMPLE_LINE = {"zh": "标题：{text}\n类别：{label}\n", "en": "Headline: {text}\nCategory: {label}\n"}
EXAMPLES_HEADER = {"zh": "\n示例：\n", "en": "\nExamples:\n"}

_PREFIX = re.compile(r"^\s*(?:label|category|class|answer|类别|分类|标签|答案|答)\s*[:：是为]?\s*", re.I)
_STRIP = " \t\r\n\"'`“”‘’「」『』《》【】()（）[]<>*_.,，。!！?？:：;；-"


def split_items(items: list[dict]) -> tuple[list[dict], list[dict]]:
    """(train, test). Uses `split` marks when present, else the first ~third of each label trains."""
    if any(i.get("split") for i in items):
        train = [i for i in items if i.get("split") == "train"]
        test = [i for i in items if i.get("split") != "train"]
        return train, test
    by_label: dict[str, list[dict]] = {}
    for item in items:
        by_label.setdefault(item.get("label", ""), []).append(item)
    train_ids = set()
    for label, group in by_label.items():
        if label and len(group) >= 2:
            train_ids.update(id(i) for i in group[: max(1, len(group) // 3)])
    return [i for i in items if id(i) in train_ids], [i for i in items if id(i) not in train_ids]


def labels_of(items: list[dict], given: list[str] | None = None) -> list[str]:
    """The label set: as given (comma/newline lists accepted), else the gold labels in file order."""
    if given:
        flat = [p.strip() for g in given for p in re.split(r"[,，、\n]", g) if p.strip()]
        labels = list(dict.fromkeys(flat))
    else:
        labels = list(dict.fromkeys(i["label"] for i in items if i.get("label")))
    if len(labels) < 2:
        raise LabError("tasks.need_labels")
    return labels


def parse_label(raw: str, labels: list[str]) -> str | None:
    """The label a free-text answer names, or None. Exact (case-insensitive) match first, then the
    label mentioned earliest in the answer (longest first when two start at the same place)."""
    text = _PREFIX.sub("", (raw or "").strip()).strip(_STRIP)
    low = text.lower()
    for label in labels:
        if low == label.lower():
            return label
    best = None  # (position, -length, label)
    for label in labels:
        pos = _find_word(low, label.lower())
        if pos >= 0 and (best is None or (pos, -len(label)) < best[:2]):
            best = (pos, -len(label), label)
    return best[2] if best else None


def _find_word(text: str, label: str) -> int:
    """Position of label in text; Latin labels must stand as whole words ('art' not in 'start')."""
    if re.search(r"[\u4e00-\u9fff]", label):
        return text.find(label)
    m = re.search(r"(?<![a-z0-9])" + re.escape(label) + r"(?![a-z0-9])", text)
    return m.start() if m else -1


def fill(template: str, text: str, labels: list[str], examples: list[dict], lang: str) -> str:
    """The prompt for one item: {labels}, {examples} (may be empty) and {text} are replaced."""
    if "{text}" not in template:
        raise LabError("tasks.template_needs", field="{text}")
    block = ""
    if examples:
        block = EXAMPLES_HEADER[lang] + "".join(
            EXAMPLE_LINE[lang].format(text=e["text"], label=e["label"]) for e in examples)
    sep = "、" if lang == "zh" else ", "
    return template.replace("{labels}", sep.join(labels)).replace("{examples}", block).replace("{text}", text)


def pick_examples(train: list[dict], labels: list[str], shots: int) -> list[dict]:
    """Up to `shots` examples per label, interleaved (a, b, c, a, b, c) so no label comes last only."""
    per = {lab: [i for i in train if i.get("label") == lab][:shots] for lab in labels}
    return [per[lab][k] for k in range(shots) for lab in labels if k < len(per[lab])]


def _embed(texts: list[str], embedder: str):
    """(N, D) float32, L2-normalised, from the shared cache's sentence-transformers model."""
    from apps.models import default_cache

    st = default_cache().get(embedder, variant="st")
    with st.lock:
        return st.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True, batch_size=32)


def run(items: list[dict], method: str, labels: list[str] | None = None, cfg: ProviderConfig | None = None,
        template: str | None = None, lang: str = "en", shots: int = 2, embedder: str = DEFAULT_EMBEDDER,
        progress: batch.Progress | None = None, **params) -> dict:
    """Classify the test items with `method`; returns {rows, report (metrics), train_size, template …}."""
    if method not in METHODS:
        raise LabError("tasks.bad_method", method=method, choices=", ".join(METHODS))
    labels = labels_of(items, labels)
    train, test = split_items(items)
    if not test:
        raise LabError("tasks.no_test")
    template = template or TEMPLATES[lang]
    result = {"task": "classify", "method": method, "labels": labels, "train_size": len(train),
              "test_size": len(test), "template": None, "provider": None, "currency": None}

    if method in ("zero-shot", "few-shot"):
        if cfg is None:
            raise LabError("tasks.need_model")
        examples = pick_examples(train, labels, shots) if method == "few-shot" else []
        if method == "few-shot" and not examples:
            raise LabError("tasks.need_train", method=method)
        fill(template, "", labels, examples, lang)
        params.setdefault("temperature", 0)
        params.setdefault("max_tokens", 12)

        def one(item: dict) -> dict:
            prompt = fill(template, item["text"], labels, examples, lang)
            raw, usage = chat(cfg, [{"role": "user", "content": prompt}], **params)
            return {"text": item["text"], "gold": item.get("label", ""), "raw": raw, "pred": parse_label(raw, labels),
                    "prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
                    "cost": round(estimate_cost(cfg, usage)[0], 6)}

        rows = batch.run_items(test, one, progress)
        result.update(template=template, provider=cfg.public(), currency=cfg.spec.currency,
                      examples=len(examples), example_prompt=fill(template, test[0]["text"], labels, examples, lang))
    else:
        rows = _embedding_rows(test, train, labels, method, embedder, progress)
        result["embedder"] = embedder

    for r in rows:
        r.setdefault("pred", None)
        r["correct"] = r.get("pred") == r.get("gold")
    gold = [r["gold"] for r in rows if r.get("gold")]
    pred = [r["pred"] for r in rows if r.get("gold")]
    result.update(rows=rows, totals=batch.totals(rows),
                  report=metrics.classification_report(gold, pred, labels) if gold else None)
    return result


def _embedding_rows(test, train, labels, method, embedder, progress) -> list[dict]:
    import numpy as np

    texts = [i["text"] for i in test]
    vectors = _embed(texts, embedder)  # (N, D)
    if method == "embedding":
        label_vecs = _embed(labels, embedder)  # (L, D)
        scores = vectors @ label_vecs.T  # (N, L) cosine similarities (rows are unit length)
    else:
        train = [i for i in train if i.get("label") in labels]
        if len({i["label"] for i in train}) < 2:
            raise LabError("tasks.need_train", method=method)
        from sklearn.linear_model import LogisticRegression

        clf = LogisticRegression(max_iter=2000, C=10.0)
        clf.fit(_embed([i["text"] for i in train], embedder), [i["label"] for i in train])
        proba = clf.predict_proba(vectors)  # (N, classes seen in training)
        scores = np.zeros((len(test), len(labels)))
        for j, label in enumerate(clf.classes_):
            scores[:, labels.index(label)] = proba[:, j]
    rows = []
    for k, item in enumerate(test):
        best = int(np.argmax(scores[k]))
        rows.append({"id": item.get("id", str(k + 1)), "text": item["text"], "gold": item.get("label", ""),
                     "raw": f"{labels[best]} ({scores[k, best]:.3f})", "pred": labels[best],
                     "scores": {lab: round(float(scores[k, j]), 4) for j, lab in enumerate(labels)},
                     "error": "", "latency_s": 0.0})
        if progress is not None:
            progress(k + 1, len(test))
    return rows
