"""Text classification, all methods scored on the same test items:

- trained (the default): logistic regression on the training items' multilingual-e5 embeddings;
- char-ngrams: logistic regression on character n-grams (no model at all);
- embedding: cosine similarity between the text's and each label name's embedding;
- likelihood: each label's log-probability after the prompt under a local model (Gemma-3 base);
- zero-shot / few-shot: ask a chat model through a provider (few-shot examples as chat turns) and
  parse its answer.

    python -m apps.cli tasks classify --data headlines_zh --json                 # the default method
    python -m apps.cli tasks classify --data headlines_zh --method all --json    # every offline method

The first four give a score per label, so nothing is parsed and nothing is unparsable (apps.tasks.offline).
The default is the best measured on held-out headlines written for the purpose (tests/data/
classify_heldout.*.jsonl; `python bench/classify.py`): see METHOD_NOTES.

Items marked `split: train` are the examples (few-shot, likelihood) and the training set (trained,
char-ngrams); the rest are scored. Without split marks, about a third of each label's items are taken
for training, in file order. A chat model's raw answer is parsed tolerantly (case, quotes,
punctuation, "Label: …", a label inside a sentence); an answer naming no label is kept as unparsed
and counts as wrong, never dropped.
"""
from __future__ import annotations

import re

from apps.errors import LabError
from apps.tasks import batch, metrics, offline
from apps.tasks.providers import ProviderConfig, chat, estimate_cost

METHODS = ("trained", "char-ngrams", "embedding", "likelihood", "zero-shot", "few-shot")
OFFLINE = ("trained", "char-ngrams", "embedding", "likelihood")  # no provider, no parsing
DEFAULT_METHOD = "trained"
DEFAULT_EMBEDDER = offline.E5
DEFAULT_SCORER = "gemma-3-270m"
# What `--method all` and the tab's comparison run: (method, embedder or scoring model).
VARIANTS = (("trained", offline.E5), ("trained", "all-minilm-l6-v2"), ("char-ngrams", None),
            ("embedding", offline.E5), ("embedding", "all-minilm-l6-v2"), ("likelihood", "gemma-3-270m"),
            ("likelihood", "smollm2-135m-instruct"))

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


def messages(template: str, text: str, labels: list[str], examples: list[dict], lang: str) -> list[dict]:
    """Chat messages for one item: each example is a user turn (the prompt for its text) answered by
    an assistant turn (its label), then the item's own prompt. A chat model shown examples inside one
    message tends to continue the list of headlines; as turns, it answers."""
    turns = []
    for e in examples:
        turns += [{"role": "user", "content": fill(template, e["text"], labels, [], lang)},
                  {"role": "assistant", "content": e["label"]}]
    return turns + [{"role": "user", "content": fill(template, text, labels, [], lang)}]


def transcript(msgs: list[dict]) -> str:
    """Messages as readable text, for showing the prompt that was sent."""
    return "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in msgs)


def run(items: list[dict], method: str = DEFAULT_METHOD, labels: list[str] | None = None,
        cfg: ProviderConfig | None = None, template: str | None = None, lang: str = "en", shots: int = 2,
        embedder: str = DEFAULT_EMBEDDER, progress: batch.Progress | None = None, scorer: str = DEFAULT_SCORER,
        **params) -> dict:
    """Classify the test items with `method`; returns {rows, report (metrics), train_size, template …}."""
    if method not in METHODS:
        raise LabError("tasks.bad_method", method=method, choices=", ".join(METHODS))
    labels = labels_of(items, labels)
    train, test = split_items(items)
    if not test:
        raise LabError("tasks.no_test")
    template = template or TEMPLATES[lang]
    fill(template, "", labels, [], lang)  # a template without {text} fails before any work
    result = {"task": "classify", "method": method, "labels": labels, "train_size": len(train),
              "test_size": len(test), "template": None, "provider": None, "currency": None}
    examples = pick_examples(train, labels, shots) if method in ("few-shot", "likelihood") else []
    if method == "few-shot" and not examples:
        raise LabError("tasks.need_train", method=method)

    if method in ("zero-shot", "few-shot"):
        if cfg is None:
            raise LabError("tasks.need_model")
        params.setdefault("temperature", 0)
        params.setdefault("max_tokens", 12)

        def one(item: dict) -> dict:
            raw, usage = chat(cfg, messages(template, item["text"], labels, examples, lang), **params)
            return {"text": item["text"], "gold": item.get("label", ""), "raw": raw, "pred": parse_label(raw, labels),
                    "prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
                    "cost": round(estimate_cost(cfg, usage)[0], 6)}

        rows = batch.run_items(test, one, progress)
        for row, item in zip(rows, test):  # a failed request is a wrong answer, never a dropped item
            row.setdefault("text", item["text"])
            row.setdefault("gold", item.get("label", ""))
        result.update(template=template, provider=cfg.public(), currency=cfg.spec.currency, examples=len(examples),
                      example_prompt=transcript(messages(template, test[0]["text"], labels, examples, lang)))
    else:
        texts = [i["text"] for i in test]
        if method == "embedding":
            scores = offline.prototype_scores(texts, labels, embedder)
        elif method == "trained":
            scores = offline.trained_scores(train, texts, labels, embedder)
        elif method == "char-ngrams":
            scores = offline.trained_scores(train, texts, labels, "char-ngrams")
        else:
            from apps.models import default_cache

            lm = default_cache().get(scorer)
            prompt_for = (lambda text: messages(template, text, labels, examples, lang)) if lm.is_chat \
                else (lambda text: fill(template, text, labels, examples, lang))
            scores = offline.likelihood_scores(lm, texts, labels, prompt_for, progress)
            result.update(template=template, scorer=scorer, examples=len(examples))
        rows = _score_rows(test, labels, scores, progress if method != "likelihood" else None)
        if method in ("embedding", "trained"):
            result["embedder"] = embedder

    for r in rows:
        r.setdefault("pred", None)
        r["correct"] = r.get("pred") == r.get("gold")
    gold = [r["gold"] for r in rows if r.get("gold")]
    pred = [r["pred"] for r in rows if r.get("gold")]
    result.update(rows=rows, totals=batch.totals(rows),
                  report=metrics.classification_report(gold, pred, labels) if gold else None)
    return result


def _score_rows(test: list[dict], labels: list[str], scores, progress) -> list[dict]:
    """scores: float (N, L); the prediction is each row's best label, so it always names one."""
    import numpy as np

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


def compare(items: list[dict], labels: list[str] | None = None, lang: str = "en", shots: int = 2,
            template: str | None = None, cfg: ProviderConfig | None = None, variants=VARIANTS,
            progress=None) -> dict:
    """Every offline method (and, given a provider, zero- and few-shot) on the same items, side by
    side: {"rows": [{method, model, accuracy, macro_f1, unparsed, n, seconds, default}], "best": the best row}.
    variants: (method, embedder or scoring model) pairs; zero-/few-shot run only with a provider."""
    import time

    chat = [("zero-shot", None), ("few-shot", None)]
    plan = [v for v in variants if v[0] not in ("zero-shot", "few-shot")] + \
        [v for v in chat if cfg is not None and (v in variants or variants is VARIANTS)]
    rows = []
    for k, (method, model) in enumerate(plan):
        started = time.perf_counter()
        extra = {"embedder": model} if method in ("trained", "embedding") else \
            {"scorer": model} if method == "likelihood" else {}
        result = run(items, method, labels, cfg, template, lang, shots, **extra)
        rep = result["report"] or {}
        rows.append({"method": method, "model": model or (cfg.public().get("model") if cfg and method.endswith("shot")
                                                          else ""),
                     "accuracy": rep.get("accuracy"), "macro_f1": rep.get("macro_f1"),
                     "unparsed": rep.get("unparsed"), "n": rep.get("n"),
                     "seconds": round(time.perf_counter() - started, 2),
                     "default": method == DEFAULT_METHOD and model in (None, DEFAULT_EMBEDDER)})
        if progress is not None:
            progress(k + 1, len(plan))
    scored = [r for r in rows if r["accuracy"] is not None]
    best = max(scored, key=lambda r: (r["accuracy"], r["macro_f1"])) if scored else None
    return {"task": "classify-compare", "rows": rows, "best": best, "lang": lang}
