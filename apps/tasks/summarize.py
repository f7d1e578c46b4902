"""Summarisation through any provider, scored with ROUGE against references.

    python -m apps.cli tasks summarize --data curriculum/data/tasks/news_zh.jsonl --provider local --json

The prompt template is plain text with two placeholders, `{text}` (the article) and `{length}` (the
target length: characters for zh, words for en); everything else is sent exactly as written.
"""
from __future__ import annotations

from apps.errors import LabError
from apps.tasks import batch, metrics
from apps.tasks.providers import ProviderConfig, Usage, chat, estimate_cost

TEMPLATES = {
    "zh": "请用不超过{length}个字概括下面这篇新闻，只输出摘要本身，不要加标题或解释。\n\n新闻：\n{text}\n\n摘要：",
    "en": "Summarize the following article in at most {length} words. Reply with the summary only.\n\nArticle:\n{text}\n\nSummary:",
}


def fill(template: str, text: str, length: int | None = None) -> str:
    """The prompt sent for one article. Only {text} and {length} are replaced (other braces stay)."""
    if "{text}" not in template:
        raise LabError("tasks.template_needs", field="{text}")
    return template.replace("{length}", str(length or "")).replace("{text}", text)


def max_tokens_for(length: int, lang: str) -> int:
    """A token budget that fits the asked length: ~1.5 tokens per Chinese character, ~1.4 per word."""
    return int(length * 1.5 + 16) if lang == "zh" else int(length * 1.4 + 16)


def summarize(cfg: ProviderConfig, text: str, template: str | None = None, length: int = 60,
              lang: str = "zh", **params) -> tuple[str, Usage]:
    """One article → (summary, usage). params go to the provider (temperature, max_tokens …)."""
    prompt = fill(template or TEMPLATES[lang], text, length)
    params.setdefault("max_tokens", max_tokens_for(length, lang))
    params.setdefault("temperature", 0)
    summary, usage = chat(cfg, [{"role": "user", "content": prompt}], **params)
    return summary.strip(), usage


def run(cfg: ProviderConfig, items: list[dict], template: str | None = None, length: int = 60, lang: str = "zh",
        progress: batch.Progress | None = None, **params) -> dict:
    """Summarise every item; score those with a reference. Returns {rows, rouge (means), totals}."""
    template = template or TEMPLATES[lang]
    fill(template, "")  # a template without {text} fails before the first call

    def one(item: dict) -> dict:
        summary, usage = summarize(cfg, item["text"], template, length, lang, **params)
        row = {"text": item["text"], "reference": item.get("reference", ""), "summary": summary,
               "prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
               "cost": round(estimate_cost(cfg, usage)[0], 6), "finish_reason": usage.finish_reason}
        if item.get("reference"):
            scores = metrics.rouge(summary, item["reference"])
            row.update({k: round(v["f"], 4) for k, v in scores.items()})
        return row

    rows = batch.run_items(items, one, progress)
    scored = [r for r in rows if "rouge1" in r]
    means = {k: round(sum(r[k] for r in scored) / len(scored), 4) for k in ("rouge1", "rouge2", "rougeL")} \
        if scored else {}
    return {"task": "summarize", "provider": cfg.public(), "template": template, "length": length,
            "rows": rows, "rouge": means, "scored": len(scored), "totals": batch.totals(rows),
            "currency": cfg.spec.currency}
