"""Every classification method on held-out headlines the shipped samples do not contain
(tests/data/classify_heldout.{en,zh}.jsonl, written for this), trained on the shipped sample sets.

    .venv/bin/python bench/classify.py [--lang en zh] [--no-chat]

en: 4 labels (sports, military, tech, business); zh: 5 (体育, 军事, 科技, 财经, 娱乐), the Weibo hot-search
task of the course. Training/example items: the shipped headlines_{lang} sample (all of it, those labels).
zero-shot and few-shot ask SmolLM2 in this process (provider "local"); the rest are offline scorers.
Prints one JSON object: per language, one row per method with accuracy, macro-F1, unparsed and seconds.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

from apps.tasks import batch, classify
from apps.tasks.providers import ProviderConfig

HELDOUT = Path(__file__).resolve().parents[1] / "tests" / "data"
LABELS = {"en": ["sports", "military", "tech", "business"], "zh": ["体育", "军事", "科技", "财经", "娱乐"]}


def heldout_items(lang: str) -> list[dict]:
    """Shipped sample (labels in the set) as training items, then the held-out items to score."""
    train = [i for i in batch.load_items(batch.sample_path(batch.SAMPLES[f"headlines_{lang}"]))
             if i.get("label") in LABELS[lang]]
    test = batch.load_items(HELDOUT / f"classify_heldout.{lang}.jsonl")
    return [dict(i, split="train") for i in train] + [dict(i, split="test") for i in test]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", nargs="*", default=["en", "zh"], choices=["en", "zh"], help="which held-out sets")
    parser.add_argument("--no-chat", action="store_true", help="skip zero-/few-shot through SmolLM2")
    args = parser.parse_args()
    cfg = None if args.no_chat else ProviderConfig("local", model="smollm2-135m-instruct")
    out = {"machine": platform.processor() or platform.machine(), "default": classify.DEFAULT_METHOD,
           "default_embedder": classify.DEFAULT_EMBEDDER, "results": {}}
    plan = list(classify.VARIANTS) + ([] if args.no_chat else [("zero-shot", None), ("few-shot", None)])
    for lang in args.lang:
        out["results"][lang] = {"rows": []}
    for variant in plan:  # method by method, both languages, each row reported as soon as it is measured
        for lang in args.lang:
            items = heldout_items(lang)
            chat = variant[0].endswith("shot")
            result = classify.compare(items, LABELS[lang], lang, shots=2, cfg=cfg if chat else None,
                                      variants=(variant,))
            rows = result["rows"]
            out["results"][lang]["rows"] += rows
            print(json.dumps({"lang": lang, **rows[0]}, ensure_ascii=False), file=sys.stderr, flush=True)
    for lang in args.lang:
        rows = out["results"][lang]["rows"]
        out["results"][lang]["best"] = max(rows, key=lambda r: (r["accuracy"], r["macro_f1"]))
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
