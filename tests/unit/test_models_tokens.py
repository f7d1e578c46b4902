"""Tokens that are part of a Chinese character: shown as their bytes and grouped under the character,
with the real SmolLM2 (byte-level BPE) and Gemma (SentencePiece byte fallback) tokenizers."""
from __future__ import annotations

import math

from apps.attention.extract import token_labels
from apps.models import tokens
from apps.models.generation import TokenInfo
from apps.playground.render import alternatives_rows, prompt_tokens_html, reply_tokens_html


def hexes(char: str) -> str:
    """The expected label of a character's bytes, written out by hand: '模' → '<E6><A8><A1>'."""
    return "".join(f"<{b:02X}>" for b in char.encode("utf-8"))


def ids_of(tok, text):
    return tok(text, add_special_tokens=False)["input_ids"]


def test_smollm_splits_chinese_into_bytes_that_are_shown_and_grouped(tokenizers):
    tok = tokenizers["smollm"]
    text = "大模型很有趣"
    ids = ids_of(tok, text)
    assert "\ufffd" in "".join(tok.decode([i]) for i in ids)  # the problem: '�' when decoded one by one
    labels = tokens.labels(tok, ids)
    assert not any("\ufffd" in x for x in labels)
    groups = tokens.groups(tok, ids)
    assert [g[2] for g in groups] == ["模", "很", "趣"]  # 大, 型 and 有 are single tokens in its vocabulary
    for start, end, char in groups:
        assert end - start >= 2 and "".join(labels[start:end]) == hexes(char)
    # whole tokens and groups together spell the text, in order
    parts, k = [], 0
    for start, end, char in groups:
        parts += labels[k:start] + [char]
        k = end
    assert "".join(parts + labels[k:]) == text


def test_gemma_byte_fallback_is_shown_and_grouped(tokenizers):
    tok = tokenizers["gemma"]
    ids = ids_of(tok, "大模型𠀀")  # U+20000 is not in Gemma's vocabulary: 4 byte-fallback tokens
    labels = tokens.labels(tok, ids)
    assert labels[-4:] == ["<F0>", "<A0>", "<80>", "<80>"] and "".join(labels[:-4]) == "大模型"
    assert tokens.groups(tok, ids) == [(len(ids) - 4, len(ids), "𠀀")]


def test_group_bytes_edge_cases():
    assert tokens.group_bytes([b"\xa1", b"a", b"\xe5\xa4", b"\xa7"]) == [(2, 4, "大")]  # stray byte: no group
    assert tokens.group_bytes([b"\xe5", b"\xa4"]) == []  # the text ends mid-character
    assert tokens.group_bytes([b"\xe5\xa4", b"x", b"\xe5\xa4\xa7"]) == []  # an unfinished character is dropped
    assert tokens.show_bytes(b"a\xe5\xa4\xa7\xe6") == "a大<E6>"


def test_every_view_shows_bytes_and_characters(tokenizers):
    tok = tokenizers["smollm"]
    ids = ids_of(tok, "模型")
    # Playground prompt tokens (the dicts generation.tokenize makes)
    shown = [tokens.describe(tok, i) for i in ids]
    html = prompt_tokens_html([{"id": i, "piece": "", "text": s, "bytes": raw.hex()} for i, (s, raw) in zip(ids, shown)])
    assert "\ufffd" not in html and "&lt;E6&gt;&lt;A8&gt;" in html
    assert html.count('class="tokgroup"') == 1 and '<span class="tokchar">模</span>' in html
    assert 'data-count="3"' in html  # still one box per token
    # reply tokens and their alternatives
    reply = [TokenInfo(i, s, math.log(0.5), [(tokens.label(tok, i), i, math.log(0.5))], raw=raw)
             for i, (s, raw) in zip(ids, shown)]
    html = reply_tokens_html(reply)
    assert '<span class="tokchar">模</span>' in html and "\ufffd" not in html
    rows = alternatives_rows(reply)
    assert rows[0][1] == repr(hexes("模")[:8]) + " → 模" and rows[1][1].endswith("→ 模") and rows[2][1] == "'型'"
    assert "<E6><A8>" in rows[0][3]
    # attention axis labels
    assert token_labels(tok, ids) == ["模:<E6><A8>", "模:<A1>", "型"]
