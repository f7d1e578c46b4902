"""The generation engine on the real offline models."""
import math
import threading

import pytest
import torch

from apps.errors import LabError
from apps.models.generation import GenerationConfig, generate, render_prompt, stream, tokenize

Q = [{"role": "user", "content": "What is the capital of France?"}]


def test_greedy_matches_transformers_generate(smollm):
    cfg = GenerationConfig(max_new_tokens=12)
    ours = generate(smollm, Q, cfg)
    ids = smollm.tokenizer(ours.prompt, return_tensors="pt", add_special_tokens=False)
    with torch.inference_mode():
        ref = smollm.model.generate(**ids, max_new_tokens=12, do_sample=False)
    ref_ids = ref[0, ids.input_ids.shape[1]:].tolist()
    ref_text = smollm.tokenizer.decode(ref_ids, skip_special_tokens=True)
    eos = smollm.tokenizer.eos_token_id
    # Every token, in order, and the whole reply: a truncated or padded reply fails.
    reply_ids = [i for i in ref_ids if i != eos]
    assert [t.id for t in ours.tokens if t.id != eos] == reply_ids and ours.completion_tokens == len(reply_ids)
    assert ours.text == ref_text.strip()
    assert ours.finish_reason == ("stop" if ref_ids[-1] == eos else "length")
    assert "Paris" in ours.text


def test_chat_template_and_base_prompt(smollm, gemma):
    rendered = render_prompt(smollm, "hi", system="Be brief.")
    assert rendered.startswith("<|im_start|>system\nBe brief.") and rendered.endswith("<|im_start|>assistant\n")
    assert render_prompt(gemma, "从前有座山") == "从前有座山"  # a base model continues plain text


def test_streaming_logprobs_and_alternatives(smollm):
    chunks = list(stream(smollm, Q, GenerationConfig(max_new_tokens=8, top_logprobs=3)))
    assert chunks[-1].done and chunks[-1].result is not None
    result = chunks[-1].result
    assert [c.token.id for c in chunks[:-1]] == [t.id for t in result.tokens]
    assert "".join(c.token.text for c in chunks[:-1]).strip() == result.text.strip()
    for tok in result.tokens:
        assert tok.logprob <= 0 and len(tok.top) == 3
        assert tok.top[0][2] >= tok.logprob - 1e-5  # greedy picks the best: nothing beats it
        assert sum(math.exp(lp) for _, _, lp in tok.top) <= 1 + 1e-4
    assert result.ttft_s > 0 and result.total_s >= result.ttft_s and result.tokens_per_s > 0


def test_sampling_is_reproducible_with_a_seed(smollm):
    cfg = GenerationConfig(max_new_tokens=16, do_sample=True, temperature=1.2, top_k=50, top_p=0.95, min_p=0.02, seed=7)
    a, b = generate(smollm, "Tell me a story", cfg), generate(smollm, "Tell me a story", cfg)
    assert a.text == b.text and a.seed == 7
    others = {generate(smollm, "Tell me a story", GenerationConfig(**{**cfg.to_dict(), "seed": s})).text for s in (1, 2, 3)}
    assert len(others | {a.text}) > 1


def test_beam_search_and_stop_strings(smollm):
    beam = generate(smollm, Q, GenerationConfig(max_new_tokens=12, num_beams=3))
    assert beam.text and beam.completion_tokens == len(beam.tokens)
    stopped = generate(smollm, "Count from 1 to 10, separated by commas.", GenerationConfig(max_new_tokens=40, stop=["4"]))
    assert "4" not in stopped.text and stopped.finish_reason == "stop"


def test_max_tokens_bounds_and_cancel(smollm):
    r = generate(smollm, "Write a long essay about the sea.", GenerationConfig(max_new_tokens=5))
    assert r.completion_tokens == 5 and r.finish_reason == "length"
    cancel = threading.Event()
    cancel.set()
    assert generate(smollm, "hello", GenerationConfig(max_new_tokens=5), cancel=cancel).finish_reason == "cancelled"


def test_gemma_continues_chinese(gemma):
    r = generate(gemma, "中国的首都是", GenerationConfig(max_new_tokens=6))
    assert r.completion_tokens >= 1 and r.text.strip()
    tokens = tokenize(gemma, "大模型")
    assert "".join(t["text"] for t in tokens) == "大模型"


@pytest.mark.parametrize("bad", [
    dict(max_new_tokens=0), dict(temperature=0), dict(top_p=0), dict(num_beams=2, do_sample=True),
])
def test_bad_parameters_are_named(bad):
    with pytest.raises(LabError) as err:
        GenerationConfig(**bad).validate()
    assert err.value.key == "gen.bad_param"


def test_bad_input_messages(smollm, minilm):
    with pytest.raises(LabError, match="empty"):
        generate(smollm, "   ")
    with pytest.raises(LabError) as err:
        generate(smollm, "word " * 9000)
    assert err.value.key == "gen.too_long"
    from apps.models import default_cache

    with pytest.raises(LabError) as err:
        generate(default_cache().get("all-minilm-l6-v2"), "hi")
    assert err.value.key == "models.not_generative"


def test_compare_base_and_instruct_side_by_side(smollm, gemma):
    from apps.playground.decoding import compare

    rows = compare([smollm, gemma], "The capital of France is", ["greedy"], max_new_tokens=6)
    assert [(m, n) for m, n, _ in rows] == [("smollm2-135m-instruct", "greedy"), ("gemma-3-270m", "greedy")]
    assert rows[0][2].prompt.startswith("<|im_start|>") and rows[1][2].prompt == "The capital of France is"
    with pytest.raises(LabError):
        compare([smollm, gemma], "x", ["greedy", "balanced", "beam4"])  # 6 pairs > 4


def test_no_half_characters_in_chinese_replies(gemma, smollm):
    # SmolLM2's byte-level vocabulary spells most Chinese characters with 2–3 tokens, so a reply cut
    # at any length may end inside a character: the visible text must never show U+FFFD.
    for n in (1, 2, 3, 4, 5):
        r = generate(smollm, "请用中文介绍一下北京。", GenerationConfig(max_new_tokens=n))
        assert "\ufffd" not in r.text
    assert "\ufffd" not in generate(gemma, "北京是", GenerationConfig(max_new_tokens=7)).text


def test_stream_holds_back_a_possible_stop_string(smollm):
    # Whatever the stop string, streamed text only ever grows and never shows a piece of it.
    reply = generate(smollm, Q, GenerationConfig(max_new_tokens=12)).text
    stop = reply[len(reply) // 2:][:6]
    shown = [c.text for c in stream(smollm, Q, GenerationConfig(max_new_tokens=12, stop=[stop])) if not c.done]
    assert all(b.startswith(a) for a, b in zip(shown, shown[1:]))
    assert all(stop[:3] not in s[len(reply) // 2 - 1:] for s in shown)
