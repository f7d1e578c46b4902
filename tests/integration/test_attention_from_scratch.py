"""The from-scratch attention matches output_attentions for every layer and head of the offline models."""
from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch

from apps.attention.extract import extract
from apps.attention.from_scratch import attention_weights
from apps.attention.recipes import agreement, attention_modules, layer_weights

pytestmark = pytest.mark.slow
TEXT = "The quick brown fox jumps over the lazy dog, and then it sleeps."
MODELS = ["smollm2-135m-instruct", "gemma-3-270m", "all-minilm-l6-v2"]


@pytest.fixture(scope="module", params=MODELS)
def eager(request, cache):
    return cache.get(request.param, attn="eager")


def test_every_layer_and_head_agrees(eager):
    run = extract(eager, TEXT)
    assert run.attentions.shape == (run.n_layers, run.n_heads, run.n_tokens, run.n_tokens)
    assert run.layer_inputs.shape[:2] == (run.n_layers, run.n_tokens)
    np.testing.assert_allclose(run.attentions.sum(-1), 1.0, atol=1e-5)
    diffs = agreement(eager.model, run.layer_inputs, run.attentions)
    assert not np.isnan(diffs).any(), "some head was not checked"
    assert diffs.max() <= 1e-4, f"worst head {np.unravel_index(diffs.argmax(), diffs.shape)}: {diffs.max()}"
    # the check can fail: the wrong head, or the wrong layer's input, gives a different pattern
    w = layer_weights(eager.model, 1)
    other = attention_weights(run.layer_inputs[0], w, 0).numpy()
    assert np.abs(other - run.attentions[1, 0]).max() > 1e-3


def test_architecture_details_are_read_from_the_model(cache):
    smol = layer_weights(cache.get("smollm2-135m-instruct", attn="eager").model, 0)
    assert (smol.n_heads, smol.n_kv_heads, smol.head_dim, smol.causal) == (9, 3, 64, True)  # GQA 3:1
    assert smol.inv_freq is not None and smol.q_norm is None and smol.bq is None
    gemma = cache.get("gemma-3-270m", attn="eager").model
    local, glob = layer_weights(gemma, 0), layer_weights(gemma, 5)
    assert local.window == 512 and glob.window is None
    assert local.scale == pytest.approx(256 ** -0.5) and local.q_norm is not None
    assert local.inv_freq[1] > glob.inv_freq[1]  # local layers θ=10k turn faster than global θ=1M
    bert = layer_weights(cache.get("all-minilm-l6-v2", attn="eager").model, 0)
    assert not bert.causal and bert.inv_freq is None and bert.bq is not None


@contextlib.contextmanager
def narrow_window(model, window: int):
    """Shrink Gemma's sliding window so a short text crosses it (512 tokens would take minutes on CPU)."""
    modules = [m for m in attention_modules(model) if m.sliding_window]
    old = model.config.sliding_window
    model.config.sliding_window = window
    for m in modules:
        m.sliding_window = window
    try:
        yield
    finally:
        model.config.sliding_window = old
        for m in modules:
            m.sliding_window = old


def test_gemma_sliding_window_layers_agree(cache):
    lm = cache.get("gemma-3-270m", attn="eager")
    with narrow_window(lm.model, 4):
        run = extract(lm, "one two three four five six seven eight nine ten")
        diffs = agreement(lm.model, run.layer_inputs, run.attentions)
    assert lm.model.config.sliding_window == 512
    assert diffs.max() <= 1e-4
    assert run.attentions[0, :, -1, :-4].max() == 0.0  # local layer 0 forgot tokens 4+ back
    assert run.attentions[5, :, -1, :-4].max() > 0.0  # global layer 5 still sees them


def test_bert_padding_mask(cache):
    """In a padded batch no token attends to padding, and the from-scratch `keep` mask says the same."""
    lm = cache.get("all-minilm-l6-v2", attn="eager")
    enc = lm.tokenizer(["attention is all you need", "short"], return_tensors="pt", padding=True)
    modules = attention_modules(lm.model)
    inputs = {}
    hooks = [m.register_forward_pre_hook(
        lambda _m, args, kwargs, i=i: inputs.__setitem__(i, kwargs.get("hidden_states", args[0] if args else None)),
        with_kwargs=True) for i, m in enumerate(modules)]
    try:
        with lm.lock, torch.no_grad():
            out = lm.model(**enc, output_attentions=True)
    finally:
        for h in hooks:
            h.remove()
    keep = enc["attention_mask"][1].bool()
    assert not keep.all(), "the second sentence should be padded"
    for layer in range(len(modules)):
        w = layer_weights(lm.model, layer)
        for head in range(w.n_heads):
            mine = attention_weights(inputs[layer][1], w, head, keep=keep)
            theirs = out.attentions[layer][1, head]
            assert (mine - theirs).abs().max() <= 1e-4
            assert theirs[:, ~keep].max() < 1e-6
