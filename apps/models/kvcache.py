"""The batch's key/value cache, for apps.models.batching: newcomers' prefill blocks, cached shared
prompt starts, and joining or trimming rows of a left-padded transformers DynamicCache.

Shapes: masks are (B, T) long (1 = a real token, 0 = padding); each layer's keys and values are
(B, kv_heads, T_layer, head_dim), where a sliding-window layer keeps only its last T_layer columns.
"""
from __future__ import annotations

import torch
from transformers import DynamicCache


class Prefill:
    """Newcomers' prompts, left-padded into one block and run through the model in column chunks
    of at most the engine's prefill budget, on a cache of their own until they join the batch.

    A prompt start shared by the group (a chat template's system turn, say) that the engine has seen
    before is not computed again: its keys and values, cached once (`_Prefixes`), fill the first
    columns of every row, and the rest of each prompt follows after its own left padding. Positions
    come from `position_ids`, not from columns, so the gap changes nothing but the mask."""

    def __init__(self, engine, reqs: list):
        self.engine, self.reqs = engine, reqs
        device = engine.lm.device
        prefix_len, prefix_kv = engine.prefixes.lookup(reqs)
        tails = [r.ids[prefix_len:] for r in reqs]
        width = max(len(tail) for tail in tails)
        pad = engine.lm.tokenizer.pad_token_id
        pad = 0 if pad is None else pad
        self.ids = torch.tensor([[pad] * (width - len(tail)) + tail for tail in tails], device=device)
        block = torch.tensor([[0] * (width - len(tail)) + [1] * len(tail) for tail in tails], device=device)
        self.positions = (block.cumsum(dim=1) - 1).clamp(min=0) + prefix_len
        self.mask = torch.cat([torch.ones(len(reqs), prefix_len, dtype=block.dtype, device=device), block], dim=1)
        self.cache = DynamicCache(config=engine.model.config)
        if prefix_len:
            for layer, (keys, values) in zip(self.cache.layers, prefix_kv):
                layer.lazy_initialization(keys, values)
                layer.keys = keys.expand(len(reqs), -1, -1, -1).contiguous()
                layer.values = values.expand(len(reqs), -1, -1, -1).contiguous()
                if hasattr(layer, "cumulative_length"):
                    layer.cumulative_length = prefix_len
        self.offset, self.done = prefix_len, 0
        self.chunk = max(1, engine.prefill_tokens // len(reqs))

    def step(self) -> torch.Tensor | None:
        """Run the next chunk; the last one returns the final logits (B, V) float."""
        end = min(self.ids.shape[1], self.done + self.chunk)
        out = self.engine.model(
            input_ids=self.ids[:, self.done:end], attention_mask=self.mask[:, :self.offset + end],
            position_ids=self.positions[:, self.done:end], cache=self.cache, use_cache=True,
            logits_to_keep=1,
        )
        self.done = end
        return out.logits[:, -1, :].float() if end == self.ids.shape[1] else None

    def next_tokens(self, reqs: list) -> torch.Tensor:
        return torch.tensor([[r.new_ids[-1]] for r in reqs], device=self.mask.device)


class Prefixes:
    """Keys and values of prompt starts that several requests shared (at most `size`, least recently
    used out). A class sends one system prompt thirty times: it is computed once."""

    MIN_TOKENS = 8

    def __init__(self, engine, size: int = 8):
        self.engine, self.size = engine, size
        self.entries: dict[tuple, list] = {}  # token ids → per layer (keys, values), each (1, H, P, D)

    def lookup(self, reqs: list) -> tuple[int, list | None]:
        """(length, per-layer kv) of the longest cached start of every prompt, leaving each prompt at
        least one token to compute (its logits give the first reply token). Learns a new start from
        a group of several prompts."""
        room = min(len(r.ids) for r in reqs) - 1
        window = getattr(self.engine.model.config, "sliding_window", None) or 1 << 30
        room = min(room, window - 1)
        best = max((key for key in self.entries if len(key) <= room and all(r.ids[:len(key)] == list(key) for r in reqs)),
                   key=len, default=())
        if len(reqs) > 1:
            common = _common_prefix([r.ids for r in reqs])[:room]
            if len(common) >= self.MIN_TOKENS and len(common) > len(best):
                self.entries[tuple(common)] = self._compute(common)
                best = tuple(common)
        if len(best) < self.MIN_TOKENS:
            return 0, None
        kv = self.entries.pop(best)
        self.entries[best] = kv  # most recently used last
        while len(self.entries) > self.size:
            self.entries.pop(next(iter(self.entries)))
        return len(best), kv

    def _compute(self, ids: list[int]) -> list:
        lm = self.engine.lm
        cache = DynamicCache(config=self.engine.model.config)
        self.engine.model(input_ids=torch.tensor([ids], device=lm.device), cache=cache, use_cache=True,
                          logits_to_keep=1)
        return [(layer.keys.clone(), layer.values.clone()) for layer in cache.layers]


def _common_prefix(rows: list[list[int]]) -> list[int]:
    first = rows[0]
    n = min(len(r) for r in rows)
    for i in range(n):
        if any(r[i] != first[i] for r in rows):
            return first[:i]
    return first[:n]


def merge(cache_a: DynamicCache, mask_a: torch.Tensor, cache_b: DynamicCache, mask_b: torch.Tensor):
    """Rows of b appended to a: the shorter side is padded on the left so both end at the same column.
    Sliding-window layers keep only their window, so each layer pads to its own longest side."""
    width = max(mask_a.shape[1], mask_b.shape[1])

    def pad(t: torch.Tensor, n: int, dim: int) -> torch.Tensor:
        if n == t.shape[dim]:
            return t
        shape = list(t.shape)
        shape[dim] = n - t.shape[dim]
        return torch.cat([t.new_zeros(shape), t], dim=dim)

    for la, lb in zip(cache_a.layers, cache_b.layers):
        n = max(la.keys.shape[-2], lb.keys.shape[-2])
        la.keys = torch.cat([pad(la.keys, n, 2), pad(lb.keys, n, 2)])
        la.values = torch.cat([pad(la.values, n, 2), pad(lb.values, n, 2)])
        if hasattr(la, "cumulative_length"):
            la.cumulative_length = width
    return cache_a, torch.cat([pad(mask_a, width, 1), pad(mask_b, width, 1)])


def trim(cache: DynamicCache, mask: torch.Tensor):
    """Drop leading columns that are padding in every row (left behind by rows that finished)."""
    real = mask.any(dim=0)
    if bool(real[0]):
        return cache, mask
    drop = int(torch.nonzero(real)[0])
    width = mask.shape[1]
    for layer in cache.layers:
        length = layer.keys.shape[-2]
        cut = max(0, drop - (width - length))  # a sliding layer holds only the last `length` columns
        if cut:
            layer.keys, layer.values = layer.keys[:, :, cut:], layer.values[:, :, cut:]
        if hasattr(layer, "cumulative_length"):
            layer.cumulative_length = width - drop
    return cache, mask[:, drop:]
