"""The teaching function's pieces behave as the lesson says (random weights, no model)."""
from __future__ import annotations

import torch

from apps.attention.from_scratch import LayerWeights, attention_weights, rope, rope_frequencies


def weights(causal=True, n_heads=4, n_kv=2, hd=8, d=16, window=None, rope_on=True, seed=0) -> LayerWeights:
    g = torch.Generator().manual_seed(seed)
    return LayerWeights(
        wq=torch.randn(n_heads * hd, d, generator=g), wk=torch.randn(n_kv * hd, d, generator=g),
        bq=None, bk=None, n_heads=n_heads, n_kv_heads=n_kv, head_dim=hd, scale=hd ** -0.5, causal=causal,
        inv_freq=rope_frequencies(10000.0, hd) if rope_on else None, window=window,
    )


def test_rows_are_distributions_and_causal_mask_holds():
    x = torch.randn(7, 16)
    p = attention_weights(x, weights(), head=1)
    assert p.shape == (7, 7)
    torch.testing.assert_close(p.sum(-1), torch.ones(7))
    later = torch.ones(7, 7, dtype=torch.bool).triu(diagonal=1)  # key j after query i
    assert p[later].abs().max() == 0  # a decoder never looks ahead
    bidirectional = attention_weights(x, weights(causal=False), head=1)
    assert bidirectional[later].min() > 0  # an encoder does


def test_sliding_window_and_padding():
    x = torch.randn(9, 16)
    p = attention_weights(x, weights(window=3), head=0)
    i, j = torch.meshgrid(torch.arange(9), torch.arange(9), indexing="ij")
    assert p[(i - j) >= 3].abs().max() == 0 and p[(i - j < 3) & (j <= i)].min() > 0
    keep = torch.tensor([True] * 6 + [False] * 3)
    q = attention_weights(x, weights(causal=False), head=0, keep=keep)
    assert q[:, ~keep].abs().max() == 0
    torch.testing.assert_close(q.sum(-1), torch.ones(9))


def test_grouped_query_heads_share_keys():
    """Heads 0 and 1 use K head 0; making their queries equal makes their patterns equal."""
    w = weights(n_heads=4, n_kv=2)
    w.wq[8:16] = w.wq[0:8]  # head 1's query = head 0's query
    x = torch.randn(5, 16)
    torch.testing.assert_close(attention_weights(x, w, 0), attention_weights(x, w, 1))
    w.wq[16:24] = w.wq[0:8]  # head 2 has the same query but K head 1
    assert not torch.allclose(attention_weights(x, w, 0), attention_weights(x, w, 2))


def test_rope_keeps_lengths_and_scores_depend_on_relative_position():
    hd, f = 8, rope_frequencies(10000.0, 8)
    v = torch.randn(1, hd)
    u = torch.randn(1, hd)
    rows = rope(v.repeat(6, 1), f)
    torch.testing.assert_close(rows.norm(dim=-1), v.norm().repeat(6))  # a rotation keeps the length
    ru = rope(u.repeat(6, 1), f)
    # q at position 3 and k at position 1 score the same as q at 5 and k at 3: only the gap matters
    torch.testing.assert_close(rows[3] @ ru[1], rows[5] @ ru[3])
    assert not torch.allclose(rows[3] @ ru[1], rows[3] @ ru[2])
