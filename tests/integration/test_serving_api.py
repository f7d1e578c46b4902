"""The lab's OpenAI-compatible server, driven by the official `openai` client (and raw httpx for bad bodies)."""
from __future__ import annotations

import threading

import httpx
import numpy as np
import openai
import pytest
from openai import OpenAI

CHAT, BASE, EMB = "smollm2-135m-instruct", "gemma-3-270m", "all-minilm-l6-v2"
HI = [{"role": "user", "content": "Name three colours."}]


@pytest.fixture(scope="module")
def client(lab_api, smollm):
    return OpenAI(base_url=lab_api.base_url, api_key="EMPTY", max_retries=0, timeout=120)


def test_models_lists_registry(client):
    ids = [m.id for m in client.models.list().data]
    assert {CHAT, BASE, EMB} <= set(ids)
    assert client.models.retrieve(CHAT).id == CHAT
    offline = {m.id: m.model_extra.get("available_offline") for m in client.models.list().data}
    assert offline[CHAT] is True and offline["qwen3-0.6b"] is False  # a hub model says it needs internet


def test_quantized_variant_is_listed_and_answers(client):
    """"M+int8" is offered next to M and quantised on first use; the float model stays as it was."""
    ids = [m.id for m in client.models.list().data]
    assert f"{CHAT}+int8" in ids and f"{CHAT}+int4" in ids and f"{EMB}+int8" not in ids
    q = client.chat.completions.create(model=f"{CHAT}+int8", messages=HI, max_tokens=6, temperature=0)
    plain = client.chat.completions.create(model=CHAT, messages=HI, max_tokens=6, temperature=0)
    assert q.model == f"{CHAT}+int8" and q.choices[0].message.content.strip()
    assert q.usage.prompt_tokens == plain.usage.prompt_tokens  # same tokenizer, same template
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model=f"{CHAT}+int3", messages=HI, max_tokens=2)


def test_chat_greedy_is_deterministic_and_stream_matches(client):
    first = client.chat.completions.create(model=CHAT, messages=HI, max_tokens=6, temperature=0)
    second = client.chat.completions.create(model=CHAT, messages=HI, max_tokens=6, temperature=0)
    text = first.choices[0].message.content
    assert text and text == second.choices[0].message.content
    assert first.usage.completion_tokens <= 6 and first.usage.prompt_tokens > 5
    assert first.choices[0].finish_reason in ("length", "stop")

    pieces, usage, finishes = [], None, []
    for chunk in client.chat.completions.create(model=CHAT, messages=HI, max_tokens=6, temperature=0, stream=True,
                                                stream_options={"include_usage": True}):
        if chunk.usage:
            usage = chunk.usage
        for choice in chunk.choices:
            pieces.append(choice.delta.content or "")
            finishes.append(choice.finish_reason)
    assert "".join(pieces) == text
    assert usage.completion_tokens == first.usage.completion_tokens
    assert finishes[-1] == first.choices[0].finish_reason


def test_stop_cuts_the_reply(client):
    full = client.chat.completions.create(model=CHAT, messages=HI, max_tokens=8, temperature=0)
    text = full.choices[0].message.content
    words = text.split()
    assert len(words) >= 2
    stop = words[1]
    cut = client.chat.completions.create(model=CHAT, messages=HI, max_tokens=8, temperature=0, stop=[stop])
    assert cut.choices[0].message.content == text[: text.index(stop)]
    assert cut.choices[0].finish_reason == "stop"


def test_seeded_sampling_repeats(client):
    args = dict(model=CHAT, messages=HI, max_tokens=6, temperature=1.2, top_p=0.95, seed=7)
    a = client.chat.completions.create(**args).choices[0].message.content
    b = client.chat.completions.create(**args).choices[0].message.content
    assert a == b


def test_completions_on_base_model(client, gemma):
    r = client.completions.create(model=BASE, prompt="One, two, three,", max_tokens=4, temperature=0)
    assert r.object == "text_completion" and r.choices[0].text
    assert r.usage.completion_tokens <= 4
    streamed = "".join(c.choices[0].text for c in client.completions.create(
        model=BASE, prompt="One, two, three,", max_tokens=4, temperature=0, stream=True) if c.choices)
    assert streamed == r.choices[0].text


def test_embeddings_float_and_base64_agree(client, lab_api, minilm):
    texts = ["a cat sat on the mat", "a kitten rested on the rug", "stock markets fell sharply"]
    via_client = np.array([d.embedding for d in client.embeddings.create(model=EMB, input=texts).data])  # base64
    raw = httpx.post(f"{lab_api.base_url}/embeddings", json={"model": EMB, "input": texts, "encoding_format": "float"})
    via_float = np.array([d["embedding"] for d in raw.json()["data"]])
    assert via_client.shape == (3, 384)
    np.testing.assert_allclose(via_client, via_float, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(via_float, axis=1), 1.0, atol=1e-4)
    sims = via_float @ via_float.T
    assert sims[0, 1] > sims[0, 2]


def test_errors_are_openai_shaped_and_server_keeps_serving(client, lab_api):
    with pytest.raises(openai.NotFoundError) as exc:
        client.chat.completions.create(model="no-such-model", messages=HI)
    assert exc.value.body["code"] == "model_not_found"

    with pytest.raises(openai.BadRequestError) as exc:
        client.chat.completions.create(model=CHAT, messages=HI, max_tokens=100_000)
    assert exc.value.body["code"] == "context_length_exceeded"

    with pytest.raises(openai.BadRequestError) as exc:
        client.embeddings.create(model=CHAT, input="x")
    assert exc.value.body["param"] == "model"

    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=CHAT, messages=HI, temperature=5)

    bad = httpx.post(f"{lab_api.base_url}/chat/completions", content=b'{"model": ', headers={"content-type": "application/json"})
    assert bad.status_code == 400 and bad.json()["error"]["type"] == "invalid_request_error"
    missing = httpx.post(f"{lab_api.base_url}/chat/completions", json={"model": CHAT})
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "messages"

    ok = client.chat.completions.create(model=CHAT, messages=HI, max_tokens=2, temperature=0)
    assert ok.choices[0].message.content


def test_bearer_key_required(lab_api_keyed, smollm):
    wrong = OpenAI(base_url=lab_api_keyed.base_url, api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as exc:
        wrong.models.list()
    assert exc.value.body["code"] == "invalid_api_key"
    right = OpenAI(base_url=lab_api_keyed.base_url, api_key=lab_api_keyed.api_key, max_retries=0)
    assert CHAT in [m.id for m in right.models.list().data]


def test_full_queue_answers_429_before_the_stream_then_recovers(lab_api, smollm):
    """A line of one behind a batch of one: of three streams at once, one runs, one waits and the
    third is refused with HTTP 429 and Retry-After before any stream byte (not a 200 with an error
    inside it)."""
    from apps.models.batching import engine_for

    engine = engine_for(smollm)
    saved = engine.max_batch, engine.max_waiting
    engine.max_batch, engine.max_waiting = 1, 1
    client = OpenAI(base_url=lab_api.base_url, api_key="EMPTY", max_retries=0, timeout=120)
    outcomes: list = []
    barrier = threading.Barrier(3)

    def call():
        barrier.wait()
        try:
            stream = client.chat.completions.create(model=CHAT, messages=HI, max_tokens=30, temperature=0,
                                                    stream=True)
            outcomes.append("".join(c.choices[0].delta.content or "" for c in stream if c.choices))
        except openai.RateLimitError as exc:
            outcomes.append(exc)

    try:
        threads = [threading.Thread(target=call) for _ in range(3)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    finally:
        engine.max_batch, engine.max_waiting = saved
    refused = [o for o in outcomes if isinstance(o, openai.RateLimitError)]
    served = [o for o in outcomes if isinstance(o, str)]
    assert served and refused, outcomes
    assert all(served), outcomes
    assert refused[0].response.status_code == 429
    assert int(refused[0].response.headers.get("retry-after")) >= 1
    assert refused[0].body["type"] == "rate_limit_exceeded"
    assert client.chat.completions.create(model=CHAT, messages=HI, max_tokens=1, temperature=0).choices


def test_thirty_concurrent_streams_all_complete_in_one_batch(lab_api, smollm):
    """A class at once: 30 streaming chats are all admitted (none refused) and share the batch."""
    from apps.models.batching import engine_for

    engine = engine_for(smollm)
    engine.max_rows_seen = 0
    barrier = threading.Barrier(30)
    replies: list = [None] * 30

    def student(i: int) -> None:
        client = OpenAI(base_url=lab_api.base_url, api_key="EMPTY", max_retries=0, timeout=300)
        barrier.wait()
        stream = client.chat.completions.create(
            model=CHAT, messages=[{"role": "user", "content": f"Student {i}: name a colour."}], max_tokens=8,
            temperature=0, stream=True, stream_options={"include_usage": True})
        text, usage = "", None
        for chunk in stream:
            if chunk.choices:
                text += chunk.choices[0].delta.content or ""
            usage = chunk.usage or usage
        replies[i] = (text, usage)

    threads = [threading.Thread(target=student, args=(i,)) for i in range(30)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert all(r is not None and r[0] and 1 <= r[1].completion_tokens <= 8 for r in replies), replies
    assert engine.max_rows_seen >= 10, engine.max_rows_seen
