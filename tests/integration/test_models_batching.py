"""The batching engine: batched equals solo, cancel frees a slot, a bad request fails alone, fair
admission, queue positions. Real SmolLM2 (and Gemma-3 for a second architecture)."""
from __future__ import annotations

import contextlib
import threading
import time

import pytest

from apps.errors import LabError
from apps.models.batching import Queued, engine_for
from apps.models.generation import GenerationConfig, collect, encode, generate, render_prompt, start

PROMPTS = ["What is attention?", "Write a haiku about the sea.", "讲一个关于猫的故事",
           "Explain LoRA in one sentence, with an example of where it helps and why it saves memory.",
           "1+1=?"]


@contextlib.contextmanager
def limits(lm, **kwargs):
    engine = engine_for(lm)
    saved = {k: getattr(engine, k) for k in kwargs}
    for k, v in kwargs.items():
        setattr(engine, k, v)
    try:
        yield engine
    finally:
        for k, v in saved.items():
            setattr(engine, k, v)


def _ids(result):
    return [tk.id for tk in result.tokens]


def _together(lm, jobs):
    """Start every (prompt, cfg) at once, then collect: they share the batch."""
    started = [start(lm, p, cfg, user=f"u{i % 3}") for i, (p, cfg) in enumerate(jobs)]
    return [collect(s) for s in started]


def test_batched_greedy_equals_solo_mixed_lengths_and_settings(smollm):
    configs = [GenerationConfig(max_new_tokens=30, stop=["."]), GenerationConfig(max_new_tokens=9, top_logprobs=2),
               GenerationConfig(max_new_tokens=24), GenerationConfig(max_new_tokens=16, top_logprobs=0),
               GenerationConfig(max_new_tokens=5)]
    jobs = list(zip(PROMPTS, configs))
    solo = [generate(smollm, p, cfg) for p, cfg in jobs]
    engine = engine_for(smollm)
    before = engine.max_rows_seen
    engine.max_rows_seen = 0
    batched = _together(smollm, jobs)
    assert engine.max_rows_seen >= 3, "the requests never shared a batch"
    engine.max_rows_seen = max(before, engine.max_rows_seen)
    for a, b, (_, cfg) in zip(solo, batched, jobs):
        assert _ids(a) == _ids(b) and a.text == b.text and a.finish_reason == b.finish_reason
        assert [len(tk.top) for tk in b.tokens] == [cfg.top_logprobs] * len(b.tokens)
        for x, y in zip(a.tokens, b.tokens):  # the token view's numbers stay exact
            assert abs(x.logprob - y.logprob) < 1e-3
            assert [alt[1] for alt in x.top] == [alt[1] for alt in y.top]
    assert batched[0].finish_reason == "stop" and "." not in batched[0].text
    assert len(batched[4].tokens) <= 5


def test_batched_sampling_keeps_each_seed(smollm):
    cfg = lambda seed: GenerationConfig(max_new_tokens=12, do_sample=True, temperature=0.9, top_p=0.9, seed=seed)
    jobs = [(PROMPTS[0], cfg(1)), (PROMPTS[0], cfg(2)), (PROMPTS[1], GenerationConfig(max_new_tokens=12,
                                                                                         repetition_penalty=1.3))]
    solo = [generate(smollm, p, c) for p, c in jobs]
    batched = _together(smollm, jobs)
    assert [r.seed for r in batched] == [1, 2, None]
    assert _ids(batched[2]) == _ids(solo[2])  # penalised greedy is per row too
    assert _ids(batched[0]) == _ids(solo[0]) and _ids(batched[1]) == _ids(solo[1])


def test_second_architecture_and_an_adapter_batch_like_solo(cache, gemma, smollm, tmp_path):
    jobs = [("The capital of France is", GenerationConfig(max_new_tokens=10)),
            ("从前有座山，", GenerationConfig(max_new_tokens=14)),
            ("def fibonacci(n):", GenerationConfig(max_new_tokens=12))]
    solo = [generate(gemma, p, c) for p, c in jobs]
    assert [_ids(r) for r in _together(gemma, jobs)] == [_ids(r) for r in solo]

    # A LoRA adapter with non-zero weights (so it really changes the model), served as its own group.
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(smollm.path)
    torch.manual_seed(0)
    peft_model = get_peft_model(base, LoraConfig(r=4, lora_alpha=16, target_modules=["q_proj", "v_proj"],
                                                 init_lora_weights=False))
    peft_model.save_pretrained(tmp_path / "adapter")
    tuned = cache.get(smollm.name, adapter=str(tmp_path / "adapter"))
    chat = [(p, GenerationConfig(max_new_tokens=12)) for p in PROMPTS[:3]]
    tuned_solo = [generate(tuned, p, c) for p, c in chat]
    assert [_ids(r) for r in tuned_solo] != [_ids(generate(smollm, p, c)) for p, c in chat]
    mixed = [start(tuned, p, c) for p, c in chat] + [start(smollm, p, c) for p, c in chat]
    results = [collect(s) for s in mixed]
    assert [_ids(r) for r in results[:3]] == [_ids(r) for r in tuned_solo]


def test_cancel_frees_the_slot_and_keeps_the_reply_so_far(smollm):
    with limits(smollm, max_batch=1) as engine:
        cancel = threading.Event()
        long = start(smollm, PROMPTS[0], GenerationConfig(max_new_tokens=400), cancel=cancel)
        waiting = start(smollm, PROMPTS[4], GenerationConfig(max_new_tokens=4))
        seen = 0
        for chunk in long:
            seen += 1
            if seen == 3:
                assert waiting.position() == 1  # behind a batch of one
                cancel.set()
            if chunk.done:
                assert chunk.result.finish_reason == "cancelled" and 3 <= chunk.result.completion_tokens < 10
        assert collect(waiting).completion_tokens >= 1
        deadline = time.time() + 10  # the scheduler drops a finished row right after its last token
        while engine.load()["running"] and time.time() < deadline:
            time.sleep(0.05)
        assert engine.load()["running"] == 0


def test_a_failing_request_fails_alone(smollm):
    """An out-of-vocabulary token id makes the model raise in prefill; its group-mates are retried
    alone and finish normally."""
    engine = engine_for(smollm)
    cfg = GenerationConfig(max_new_tokens=8)
    good_ids = [encode(smollm, render_prompt(smollm, p)) for p in PROMPTS[:2]]
    with limits(smollm, max_batch=1):  # hold the batch so all three wait and join one prefill group
        blocker = start(smollm, PROMPTS[3], GenerationConfig(max_new_tokens=6))
        reqs = [engine.submit(good_ids[0], cfg, 8, user="a"),
                engine.submit([1, 2, 10**7], cfg, 8, user="b"),
                engine.submit(good_ids[1], cfg, 8, user="c")]
        engine.max_batch = 8
        collect(blocker)
    ok0, ok2 = collect(reqs[0]), collect(reqs[2])
    with pytest.raises(LabError):
        collect(reqs[1])
    assert _ids(ok0) == _ids(generate(smollm, PROMPTS[0], cfg))
    assert _ids(ok2) == _ids(generate(smollm, PROMPTS[1], cfg))
    assert generate(smollm, "Still serving?", GenerationConfig(max_new_tokens=3)).completion_tokens >= 1


def test_fair_admission_lets_a_second_user_in_before_the_first_users_backlog(smollm):
    with limits(smollm, max_batch=2, prefill_tokens=1):
        hog = [start(smollm, PROMPTS[i % 5], GenerationConfig(max_new_tokens=6), user="hog") for i in range(5)]
        time.sleep(0.05)
        polite = start(smollm, PROMPTS[4], GenerationConfig(max_new_tokens=6), user="polite")
        positions = [e.position for e in _first_events(polite)]
        results = [collect(h) for h in hog] + [collect(polite)]
    # The newcomer waits behind at most the hog's next one, not behind its whole backlog.
    assert positions and positions[0] <= 2, positions
    assert results[-1].queued_s < sorted(r.queued_s for r in results[:-1])[-2]


def _first_events(req):
    events = []
    for event in req.events(poll=0.05):
        if not isinstance(event, Queued):
            break
        events.append(event)
    return events
