"""The llama.cpp engine (apps/models/llamacpp.py, llamacpp_backends.py) on the shipped SmolLM2 GGUF.

It runs on whichever binding is installed: xllamacpp (prebuilt, in requirements.txt: so in CI) or
llama-cpp-python (`make llama`). Where both are, the two are compared. Tests that run llama.cpp skip
where neither is installed and say so; the checks made before loading (a corrupt file, a model that
does not fit, the engine missing) run everywhere.
"""
from __future__ import annotations

import threading

import pytest

from apps.errors import LabError
from apps.models import llamacpp, llamacpp_backends
from apps.models.generation import GenerationConfig, generate, start

NEEDS_LLAMA = pytest.mark.skipif(not llamacpp.available(),
                                 reason="no llama.cpp binding installed (xllamacpp: `make install`)")
REF = "smollm2-135m-instruct@llama.cpp"


def _tiny_header(path, size: int | None = None):
    """A GGUF with a 7B-like header and no tensors; `size` makes it a sparse file that large."""
    import gguf

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_block_count(32)
    writer.add_head_count(32)
    writer.add_head_count_kv(8)
    writer.add_embedding_length(4096)
    writer.add_context_length(8192)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.close()
    if size:
        with open(path, "r+b") as handle:
            handle.truncate(size)
    return path


def test_corrupt_file_is_named(tmp_path):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"this is not a gguf file" * 100)
    with pytest.raises(LabError) as err:
        llamacpp.plan(bad)
    assert err.value.key == "llama.corrupt" and "broken.gguf" in err.value.message("en")


def test_too_big_is_refused_before_loading(tmp_path):
    huge = _tiny_header(tmp_path / "huge.gguf", size=1 << 40)  # sparse: 1 TB on paper, no disk used
    p = llamacpp.plan(huge, n_ctx=4096)
    assert p["kv_mb"] == 2 * 32 * 4096 * 8 * 128 * 2 >> 20  # 512 MB of f16 keys and values
    assert not p["fits"] and p["need_mb"] > p["available_mb"]
    if llamacpp.available():
        with pytest.raises(LabError) as err:
            llamacpp.load(llamacpp.resolve(str(huge)))
        assert err.value.key == "llama.too_big" and "MB" in err.value.message("zh")


def test_engine_turned_off_says_how_to_install(monkeypatch):
    monkeypatch.setenv("LLMLAB_LLAMA", "off")
    with pytest.raises(LabError) as err:
        llamacpp.load(llamacpp.resolve(REF))
    assert err.value.key == "llama.not_installed" and "make install" in err.value.message("en")
    assert "make llama" in err.value.message("zh")
    assert llamacpp.served_ids() == []


def test_non_gguf_registry_model_is_refused():
    with pytest.raises(LabError) as err:
        llamacpp.resolve("all-minilm-l6-v2@llama.cpp")
    assert err.value.key == "llama.not_gguf"


@pytest.fixture(scope="module")
def llama_lm(cache):
    return cache.get(REF)


@NEEDS_LLAMA
def test_chat_with_logprobs_seed_and_multi_turn(llama_lm):
    assert llama_lm.kind == "chat" and llama_lm.variant == "llama.cpp"
    greedy = GenerationConfig(max_new_tokens=12, top_logprobs=3)
    first = generate(llama_lm, "What is the capital of France?", greedy)
    assert first.completion_tokens >= 1 and first.text
    for tok in first.tokens:  # the chosen token's log-probability and its alternatives, best first
        assert tok.logprob <= 0 and len(tok.top) == 3 and tok.top[0][2] >= tok.top[1][2] >= tok.top[2][2]
    assert first.tokens[0].top[0][1] == first.tokens[0].id  # greedy picks the most likely token
    turns = [{"role": "user", "content": "What is the capital of France?"},
             {"role": "assistant", "content": first.text}, {"role": "user", "content": "And of Italy?"}]
    again = generate(llama_lm, turns, greedy)  # reuses the first turn's KV cache
    llama_lm.model.llm.reset()
    fresh = generate(llama_lm, turns, greedy)  # from an empty cache: the same tokens
    assert [t.id for t in again.tokens] == [t.id for t in fresh.tokens]
    sample = GenerationConfig(max_new_tokens=10, do_sample=True, temperature=0.9, seed=7)
    assert generate(llama_lm, "Tell me a joke", sample).text == generate(llama_lm, "Tell me a joke", sample).text


@NEEDS_LLAMA
def test_cancel_frees_the_engine(llama_lm):
    cancel = threading.Event()
    req = start(llama_lm, "Write a long story about a dragon.", GenerationConfig(max_new_tokens=400), cancel=cancel)
    n = 0
    for chunk in req:
        n += 1
        if n == 3:
            cancel.set()
        if chunk.done:
            assert chunk.result.finish_reason == "cancelled"
    after = generate(llama_lm, "Hi", GenerationConfig(max_new_tokens=3))
    assert after.completion_tokens >= 1
    with pytest.raises(LabError) as err:
        generate(llama_lm, "Hi", GenerationConfig(max_new_tokens=3, num_beams=2))
    assert err.value.key == "llama.no_beams"


@NEEDS_LLAMA
def test_v1_serves_the_gguf(lab_api, llama_lm):
    from openai import OpenAI

    client = OpenAI(base_url=lab_api.base_url, api_key="EMPTY")
    assert REF in [m.id for m in client.models.list().data]
    stream = client.chat.completions.create(model=REF, messages=[{"role": "user", "content": "Hi"}],
                                            max_tokens=8, temperature=0, stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == generate(llama_lm, [{"role": "user", "content": "Hi"}], GenerationConfig(max_new_tokens=8)).text


def test_the_binding_is_chosen_by_what_is_installed_and_llmlab_llama(monkeypatch):
    installed = {name: llamacpp_backends._installed(mod) for name, mod in llamacpp_backends._MODULES.items()}
    monkeypatch.delenv("LLMLAB_LLAMA", raising=False)
    assert llamacpp_backends.backend() == next((n for n in ("xllamacpp", "llama-cpp-python") if installed[n]), None)
    for name in installed:
        monkeypatch.setenv("LLMLAB_LLAMA", name)
        assert llamacpp_backends.backend() == (name if installed[name] else None)
    monkeypatch.setenv("LLMLAB_LLAMA", "off")
    assert llamacpp_backends.backend() is None and not llamacpp.available()


def test_another_llama_h_is_refused_before_it_is_used():
    """xllamacpp's structs are opaque to ctypes: a version whose defaults sit elsewhere must not load."""
    pinned = [512, 2048, 512, 1, 0, 0, 1, 4, 4] + [0] * 7
    llamacpp_backends._check_layout(pinned, threads_default=4)
    older = [512, 2048, 512, 1, 4, 4, 0, 0, 0] + [0] * 7  # n_threads right after n_seq_max
    with pytest.raises(RuntimeError, match="requirements.txt"):
        llamacpp_backends._check_layout(older, threads_default=4)


@pytest.mark.skipif(not all(llamacpp_backends._installed(m) for m in llamacpp_backends._MODULES.values()),
                    reason="needs both xllamacpp and llama-cpp-python (`make llama`)")
def test_both_bindings_read_the_gguf_alike():
    import numpy as np

    path = str(llamacpp.file_of(llamacpp.resolve(REF)))
    seen = {}
    for cls in (llamacpp_backends.XLlama, llamacpp_backends.PyLlama):
        runner = cls(path, n_ctx=256, n_threads=1)
        ids = runner.tokenize("<|im_start|>user\nHi 你好<|im_end|>\n", add_bos=runner.add_bos, special=True)
        runner.eval(ids)
        first = runner.logits()
        out = []
        for _ in range(6):
            out.append(int(runner.logits().argmax()))
            runner.eval(out[-1:])
        kept = runner.truncate(len(ids))  # back to the prompt: the same next-token logits
        runner.eval(out[:1])
        again = runner.logits()
        runner.truncate(len(ids) - 1)
        runner.eval(ids[-1:])
        np.testing.assert_allclose(runner.logits(), first, atol=1e-3)
        seen[cls.backend] = (ids, out, first, kept, runner.eos_ids, runner.chat_template,
                             runner.detokenize(ids, special=True), again)
        runner.close()
    (ids_x, out_x, first_x, kept_x, eos_x, tmpl_x, text_x, _), (ids_p, out_p, first_p, kept_p, eos_p, tmpl_p, text_p, _) \
        = seen.values()
    assert ids_x == ids_p and out_x == out_p and eos_x == eos_p and tmpl_x == tmpl_p and text_x == text_p
    assert kept_x == kept_p == len(ids_x)
    # two llama.cpp builds (different kernels, versions): close logits, not bit-equal (measured: 2.5%)
    assert np.abs(first_x - first_p).max() < 0.05 * np.abs(first_p).max()
