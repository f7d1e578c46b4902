import re

# The RAG tab's rule for where a sentence ends: after 。！？；!?;… (and closing quotes or brackets),
# after a "." followed by whitespace, or at a run of newlines.
SENTENCE_END = re.compile(r"[。！？；!?;…]+[”’」』)）\]]*|\.(?=\s)|\n+")


def chunk_sentences(text: str, size: int) -> list[str]:
    """Split text into sentences (each ends where SENTENCE_END matches; the text after the last
    match is a sentence too; skip pieces that are only whitespace). Then pack whole sentences
    greedily into chunks: a chunk spans text[start of its first sentence : end of its last one]
    and may be at most `size` characters long. Return the chunks with surrounding whitespace
    stripped. You may assume no single sentence is longer than `size`."""
    raise NotImplementedError
