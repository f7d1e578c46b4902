"""Cutting documents into chunks that keep their source and character offsets.

Two strategies:
- "fixed": windows of `size` characters that step by `size - overlap`;
- "sentence" (default): sentences and paragraphs packed greedily up to `size` characters, cut at
  Chinese (。！？；) and English (. ! ? ;) sentence ends and at blank lines, with up to `overlap`
  characters of the previous sentences repeated at the start of the next chunk, so that a fact
  spanning a boundary is whole in at least one chunk.

`chunk.text == document.text[chunk.start:chunk.end]` always holds, which is what lets the UI
highlight a chunk inside its source.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from apps.errors import LabError
from rag.loaders import Document

STRATEGIES = ("sentence", "fixed")
# A sentence ends after 。！？；!?; (plus closing quotes/brackets), after ". " in English, or at a
# newline. Newlines matter for roadmap-style prose: list items and headings carry no full stop.
_SENTENCE_END = re.compile(r"[。！？；!?;…]+[”’」』)）\]]*|\.(?=\s)|\n+")


@dataclass
class Chunk:
    """`id` is the chunk's position in its index; `start`/`end` are character offsets in `source`."""

    id: int
    source: str
    start: int
    end: int
    text: str

    def to_dict(self) -> dict:
        return asdict(self)


def check_settings(size: int, overlap: int, strategy: str = "sentence") -> None:
    """Refuse impossible chunking settings (cheap: called before any file is loaded)."""
    if size < 20:
        raise LabError("rag.bad_chunking", why="chunk size < 20")
    if overlap < 0 or overlap >= size:
        raise LabError("rag.bad_chunking", why="0 <= overlap < chunk size")
    if strategy not in STRATEGIES:
        raise LabError("rag.bad_chunking", why=f"strategy must be one of {', '.join(STRATEGIES)}")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, whitespace-only pieces dropped. Ends include the punctuation."""
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        if text[start:end].strip():
            spans.append((start, end))
        start = end
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def _fixed_spans(start: int, end: int, size: int, overlap: int) -> list[tuple[int, int]]:
    step = size - overlap
    spans = []
    pos = start
    while pos < end:
        spans.append((pos, min(pos + size, end)))
        if pos + size >= end:
            break
        pos += step
    return spans


def _sentence_chunks(text: str, size: int, overlap: int) -> list[tuple[int, int]]:
    # Sentences longer than a chunk (code pasted without newlines, long tables) are cut fixed-size.
    pieces: list[tuple[int, int]] = []
    for s, e in sentence_spans(text):
        pieces.extend(_fixed_spans(s, e, size, overlap) if e - s > size else [(s, e)])
    chunks: list[tuple[int, int]] = []
    i = 0
    while i < len(pieces):
        start, end = pieces[i]
        j = i + 1
        while j < len(pieces) and pieces[j][1] - start <= size:
            end = pieces[j][1]
            j += 1
        chunks.append((start, end))
        if j >= len(pieces):
            break
        # Step back over whole sentences that fit in the overlap budget, but always advance.
        k = j
        while k - 1 > i and end - pieces[k - 1][0] <= overlap:
            k -= 1
        i = k
    return chunks


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink a span so it neither starts nor ends with whitespace (offsets stay exact)."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def chunk_document(doc: Document, size: int = 300, overlap: int = 60, strategy: str = "sentence",
                   first_id: int = 0) -> list[Chunk]:
    check_settings(size, overlap, strategy)
    text = doc.text
    spans = (_fixed_spans(0, len(text), size, overlap) if strategy == "fixed"
             else _sentence_chunks(text, size, overlap))
    chunks = []
    for s, e in spans:
        s, e = _trim(text, s, e)
        if e > s:
            chunks.append(Chunk(first_id + len(chunks), doc.source, s, e, text[s:e]))
    return chunks


def chunk_documents(docs: list[Document], size: int = 300, overlap: int = 60,
                    strategy: str = "sentence") -> list[Chunk]:
    chunks: list[Chunk] = []
    for doc in docs:
        chunks.extend(chunk_document(doc, size, overlap, strategy, first_id=len(chunks)))
    if not chunks:
        raise LabError("rag.no_text", name=", ".join(d.source for d in docs[:3]))
    return chunks
