"""Worked solution: one BPE merge step."""
from collections import Counter


def bpe_merge_step(words: list[list[str]]) -> tuple[tuple[str, str], list[list[str]]]:
    # 1. count every adjacent pair, in every word (a word that appears twice counts twice)
    counts = Counter()
    for word in words:
        counts.update(zip(word, word[1:]))
    best = max(counts, key=counts.get)
    # 2. replace each occurrence of that pair, left to right, by one merged symbol
    merged = []
    for word in words:
        out, i = [], 0
        while i < len(word):
            if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                out.append(word[i] + word[i + 1])
                i += 2
            else:
                out.append(word[i])
                i += 1
        merged.append(out)
    return best, merged
