"""Worked solution: a sentence chunker (no overlap)."""
import re

# A sentence ends after 。！？；!?;… (and closing quotes or brackets), after a "." followed by
# whitespace, or at a run of newlines. This is the RAG tab's own rule.
SENTENCE_END = re.compile(r"[。！？；!?;…]+[”’」』)）\]]*|\.(?=\s)|\n+")


def chunk_sentences(text: str, size: int) -> list[str]:
    # 1. sentences as (start, end) offsets, dropping pieces that are only whitespace
    spans, start = [], 0
    for match in SENTENCE_END.finditer(text):
        if text[start:match.end()].strip():
            spans.append((start, match.end()))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    # 2. pack whole sentences greedily: a chunk runs from its first sentence's start to its last
    #    sentence's end and may not be longer than size characters
    chunks, i = [], 0
    while i < len(spans):
        begin, end = spans[i]
        i += 1
        while i < len(spans) and spans[i][1] - begin <= size:
            end = spans[i][1]
            i += 1
        piece = text[begin:end].strip()
        if piece:
            chunks.append(piece)
    return chunks
