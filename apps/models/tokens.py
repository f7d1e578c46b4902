"""How a token looks on screen, when it is only part of a character.

Byte-level tokenizers (SmolLM2, GPT-2) often split one Chinese character into 2–3 tokens, and
SentencePiece ones with byte fallback (Gemma) do so for rare characters; decoded alone, each such
token is "\ufffd" (�). Here such a token shows its bytes instead, as `<E5><A4>`, and a run of tokens
whose bytes together make whole characters is grouped under them:

    >>> labels(tok, ids)                      # SmolLM2, "大模型"
    ['大', '<E6><A8>', '<A1>', '型']
    >>> groups(tok, ids)                      # (first token, one past the last, the characters)
    [(1, 3, '模')]

The Playground's token view and its alternatives, the attention labels and the course's answers all
call these, so a learner sees the same thing everywhere. No gradio, no model: only a tokenizer.
"""
from __future__ import annotations

import codecs
import re
from functools import lru_cache

_BYTE_PIECE = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")  # SentencePiece byte fallback (Gemma, Llama)


@lru_cache(maxsize=1)
def _byte_level_table() -> dict[str, int]:
    """GPT-2's printable stand-in for each byte, reversed: 'Ġ' → 0x20, 'å' → 0xE5. Printable Latin-1
    bytes stand for themselves; the other 68 are shifted to U+0100 onwards, in byte order."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    shifted = [b for b in range(256) if b not in keep]
    return {**{chr(b): b for b in keep}, **{chr(256 + n): b for n, b in enumerate(shifted)}}


def token_bytes(tokenizer, token_id: int) -> bytes:
    """The UTF-8 bytes one token stands for (b'\\xe5\\xa4' for half of '大')."""
    piece = tokenizer.convert_ids_to_tokens(int(token_id))
    if isinstance(piece, str):
        match = _BYTE_PIECE.match(piece)
        if match:
            return bytes([int(match.group(1), 16)])
        table = _byte_level_table()
        text = tokenizer.decode([int(token_id)])
        if "\ufffd" in text and piece and all(ch in table for ch in piece):
            return bytes(table[ch] for ch in piece)
        return text.encode("utf-8")
    return tokenizer.decode([int(token_id)]).encode("utf-8")


def show_bytes(data: bytes) -> str:
    """Bytes as text: whole UTF-8 characters as themselves, every other byte as <XX>."""
    out, i = [], 0
    while i < len(data):
        for width in (1, 2, 3, 4):
            try:
                out.append(data[i:i + width].decode("utf-8"))
                i += width
                break
            except UnicodeDecodeError:
                continue
        else:
            out.append(f"<{data[i]:02X}>")
            i += 1
    return "".join(out)


def describe(tokenizer, token_id: int) -> tuple[str, bytes]:
    """(screen text, bytes) of one token: the decoded text, or its bytes as <E5><A4> when decoding
    it alone gives '�'."""
    text = tokenizer.decode([int(token_id)])
    if "\ufffd" not in text:
        return text, text.encode("utf-8")
    raw = token_bytes(tokenizer, token_id)
    return show_bytes(raw), raw


def label(tokenizer, token_id: int) -> str:
    return describe(tokenizer, token_id)[0]


def labels(tokenizer, ids: list[int]) -> list[str]:
    return [label(tokenizer, i) for i in ids]


def axis_labels(tokenizer, ids: list[int]) -> list[str]:
    """Labels for plot axes, where there is no room to draw groups: a token that is part of a
    character is prefixed with it, '模:<E6><A8>', '模:<A1>'."""
    out = [describe(tokenizer, i) for i in ids]
    shown = [text for text, _raw in out]
    for start, end, chars in group_bytes([raw for _text, raw in out]):
        for k in range(start, end):
            shown[k] = f"{chars}:{shown[k]}"
    return shown


def group_bytes(chunks: list[bytes]) -> list[tuple[int, int, str]]:
    """Runs of two or more tokens whose bytes together make whole characters.

    chunks: each token's bytes, in order. Returns (start, end, text) with end exclusive; a token that
    is whole on its own is in no group. A run that never completes (the text ends mid-character)
    is not grouped."""
    out, start, pending = [], None, b""
    for k, chunk in enumerate(chunks):
        if start is not None:
            state = _state(pending + chunk)
            if state == "whole":
                out.append((start, k + 1, (pending + chunk).decode("utf-8")))
                start, pending = None, b""
                continue
            if state == "open":
                pending += chunk
                continue
            start, pending = None, b""  # bytes that make no character: this token starts afresh
        if _state(chunk) == "open":
            start, pending = k, chunk
    return out


def groups(tokenizer, ids: list[int]) -> list[tuple[int, int, str]]:
    """group_bytes for token ids."""
    return group_bytes([token_bytes(tokenizer, i) for i in ids])


def _state(data: bytes) -> str:
    """'whole' (ends on a character boundary), 'open' (a character is left unfinished) or 'bad'."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(data, final=False)
    except UnicodeDecodeError:
        return "bad"
    return "open" if decoder.getstate()[0] else "whole"
