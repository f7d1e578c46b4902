"""The chat template a run trains with travels with its result, and every place that generates with
it (fine-tune "try", the Playground, the Arena, the API) prompts with exactly that template.

    tokenizer = for_training(AutoTokenizer.from_pretrained(base))   # the model's template, or PLAIN
    ...train..., tokenizer.save_pretrained(run/adapter)              # writes chat_template.jinja
    lm = default_cache().get(base, adapter=run/adapter)              # loading calls apply_to(...)
    prompt_ids(lm.tokenizer, [{"role": "user", "content": "Hi"}])    # == what training saw, one <bos>

Training renders with `add_special_tokens=False` (the template writes <bos> itself), so generation
must too: `apply_to` marks a tuned model as a chat model, which makes the engine apply the template
and encode without adding special tokens again (apps.models.generation.encode).
"""
from __future__ import annotations

from pathlib import Path

TEMPLATE_FILE = "chat_template.jinja"  # what tokenizer.save_pretrained writes in transformers >= 4.5x


def for_training(tokenizer):
    """The tokenizer as the trainer uses it: a chat template always (base models: data.PLAIN_TEMPLATE),
    a pad token always. Saved with the adapter, so the template travels with it."""
    from apps.finetune.data import chat_template

    tokenizer.chat_template = chat_template(tokenizer)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def saved_template(folder: str | Path) -> str | None:
    """The template saved in an adapter or model folder (chat_template.jinja, or the older
    tokenizer_config.json field), or None."""
    import json

    folder = Path(folder)
    if (folder / TEMPLATE_FILE).is_file():
        return (folder / TEMPLATE_FILE).read_text(encoding="utf-8")
    try:
        config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    template = config.get("chat_template") if isinstance(config, dict) else None
    return template if isinstance(template, str) else None


def apply_to(tokenizer, adapter: str | Path):
    """Give a base model's tokenizer the template its adapter was trained with. An adapter saved
    without one was trained with what `for_training` picks, so that is the fallback."""
    template = saved_template(adapter)
    if template:
        tokenizer.chat_template = template
    else:
        for_training(tokenizer)
    return tokenizer


def prompt_ids(tokenizer, messages: list[dict]) -> list[int]:
    """Token ids of a prompt exactly as training rendered it (apps.finetune.data.encode_chat), with
    the generation prompt ("### Answer:" / "<|im_start|>assistant") appended."""
    from apps.finetune.data import render

    return tokenizer(render(tokenizer, messages, add_generation_prompt=True), add_special_tokens=False)["input_ids"]
