"""Try a result: the same prompts through the base model and the tuned one, side by side.

    rows = compare(default_cache(), run_id, ["What does LoRA stand for?"], max_new_tokens=48)
    # [{"prompt", "base", "tuned"}]

Prompts are rendered the way the run was trained: the template saved with the adapter (the chat
template for chat models, the plain "### Question / ### Answer" one for base models), one <bos>. Greedy decoding, so a
difference comes from the weights, not from sampling.
"""
from __future__ import annotations

from apps.errors import LabError
from apps.finetune import data, runs


def _prompt(lm, text: str, tuned):
    """Messages for a chat model (a tuned one carries its training template, apps.finetune.template);
    an untuned base model gets the very text the tuned one sees, so only the weights differ."""
    messages = [{"role": "user", "content": text}]
    if lm.is_chat:
        return messages
    return data.render(tuned.tokenizer, messages, add_generation_prompt=True)  # starts with <bos>: not added again


def tuned_model(cache, info: dict):
    """The finished run's model from the shared cache: base + adapter, or the full fine-tune's folder."""
    if info["adapter_path"]:
        return cache.get(info["model"], adapter=info["adapter_path"])
    if info["model_path"]:
        return cache.get(info["model_path"])
    raise LabError("finetune.no_adapter", run_id=info["run_id"])


def compare(cache, run_id: str, prompts: list[str], max_new_tokens: int = 64, root=None, user=None) -> list[dict]:
    """`user`: only a run they may reach (apps.finetune.runs ownership); None = trusted caller."""
    from apps.models.generation import GenerationConfig, collect, start

    info = runs.get_run(run_id, root, user)
    if info["state"] != "finished":
        raise LabError("finetune.not_finished", run_id=run_id, state=info["state"])
    prompts = [p.strip() for p in prompts if p.strip()]
    if not prompts:
        raise LabError("gen.empty_prompt")
    base, tuned = cache.get(info["model"]), tuned_model(cache, info)
    cfg = GenerationConfig(max_new_tokens=max_new_tokens, do_sample=False)
    # Submit every prompt to both models first: the engines batch them, then collect in order.
    pending = [{"prompt": text, **{key: start(lm, _prompt(lm, text, tuned), cfg) for key, lm in
                                   (("base", base), ("tuned", tuned))}} for text in prompts]
    return [{"prompt": row["prompt"], **{key: collect(row[key]).text.strip() for key in ("base", "tuned")}}
            for row in pending]
