"""A tuned model is prompted exactly as it was trained: the template saved with its adapter, one <bos>,
in fine-tune "try" (and its untuned base), the Playground (a model reference) and the Arena (a contestant)."""
from __future__ import annotations

import pytest

from apps.finetune import data, template
from apps.models.generation import GenerationConfig, encode, generate, render_prompt

MESSAGES = [{"role": "user", "content": "What does LoRA stand for?"}]


def _adapter(base: str, folder):
    """A real (untrained) peft adapter saved the way apps.finetune.train saves one."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from apps.models.loading import model_dir
    from apps.models.registry import resolve

    path = model_dir(resolve(base))
    tokenizer = template.for_training(AutoTokenizer.from_pretrained(path))
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(path),
                           LoraConfig(r=2, target_modules=["q_proj"], task_type="CAUSAL_LM"))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return tokenizer, str(folder)


@pytest.mark.parametrize("base", ["gemma-3-270m", "smollm2-135m-instruct"])
def test_generation_prompt_equals_training_rendering(base, cache, tmp_path):
    from apps.arena.contestants import parse
    from apps.models.registry import model_ref

    train_tok, adapter = _adapter(base, tmp_path / "adapter")
    assert (tmp_path / "adapter" / template.TEMPLATE_FILE).exists()  # the template travels with the adapter
    # what the trainer saw: the prompt part of a rendered example (encode_chat, no special tokens added)
    example = data.encode_chat(train_tok, MESSAGES + [{"role": "assistant", "content": "Low-rank adaptation."}], 512)
    trained = template.prompt_ids(train_tok, MESSAGES)
    assert example["input_ids"][: len(trained)] == trained
    if base.startswith("gemma"):  # a base model: the plain template, exactly one <bos>, first
        assert trained.count(train_tok.bos_token_id) == 1 and trained[0] == train_tok.bos_token_id
        assert "### Question:" in train_tok.decode(trained)
    else:  # a chat model keeps its own template
        own = cache.get(base).tokenizer.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=True)
        assert trained == train_tok(own, add_special_tokens=False)["input_ids"]

    tuned = [cache.get(base, adapter=adapter),             # fine-tune "try" (compare.tuned_model)
             cache.get(model_ref(base, adapter)),          # the Playground's dropdown value
             parse(f"{base}+{adapter}").load(cache)]       # the Arena's contestant
    for lm in tuned:
        assert encode(lm, render_prompt(lm, MESSAGES)) == trained
        assert encode(lm, render_prompt(lm, MESSAGES[0]["content"])) == trained  # the Arena sends text
    result = generate(tuned[0], MESSAGES, GenerationConfig(max_new_tokens=1))
    assert result.prompt_tokens == len(trained)
    # compare() shows an untuned base model the tuned one's rendered text: its <bos> is not added twice
    untuned = cache.get(base)
    if not untuned.is_chat:
        assert encode(untuned, data.render(tuned[0].tokenizer, MESSAGES, add_generation_prompt=True)) == trained

