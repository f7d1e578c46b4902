"""Per-head summaries on patterns whose answers are known by hand."""
from __future__ import annotations

import numpy as np
import pytest

from apps.attention.stats import head_stats, look_map, token_targets

T = 6


def causal_uniform():
    p = np.tril(np.ones((T, T)))
    return p / p.sum(-1, keepdims=True)


def test_sink_head_and_previous_token_head():
    sink = np.zeros((T, T))
    sink[:, 0] = 1.0
    prev = np.eye(T, k=-1)
    prev[0, 0] = 1.0
    stats = head_stats(np.stack([np.stack([sink, prev])]), causal=True)  # (1 layer, 2 heads)
    assert stats.first_token[0].tolist() == [1.0, pytest.approx(1 / (T - 1))]  # prev: only row 1 → token 0
    assert stats.previous_token[0].tolist() == [pytest.approx(1 / (T - 1)), 1.0]
    assert stats.entropy[0].tolist() == [0.0, 0.0]
    assert stats.distance[0, 1] == pytest.approx(1.0)
    assert stats.distance[0, 0] == pytest.approx(np.mean(np.arange(1, T)))


def test_uniform_entropy_is_log2_of_visible_tokens():
    stats = head_stats(causal_uniform()[None, None], causal=True)
    assert stats.entropy[0, 0] == pytest.approx(np.mean(np.log2(np.arange(2, T + 1))))
    encoder = head_stats(np.full((1, 1, T, T), 1 / T), causal=False)
    assert encoder.entropy[0, 0] == pytest.approx(np.log2(T))


def test_token_targets_per_layer():
    a = np.stack([causal_uniform()[None], np.eye(T)[None]])  # (2 layers, 1 head)
    first, second = token_targets(a, query=4, top=2)
    assert [w for _, w in first] == [pytest.approx(0.2)] * 2
    assert second[0] == (4, 1.0)
    assert look_map(a, 4).shape == (2, T)
    with pytest.raises(IndexError):
        token_targets(a, query=T)
