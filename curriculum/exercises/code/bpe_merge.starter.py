def bpe_merge_step(words: list[list[str]]) -> tuple[tuple[str, str], list[list[str]]]:
    """words: each word as a list of symbols, e.g. [["l", "o", "w"], ["l", "o", "w", "e", "r"]].
    Find the most frequent pair of adjacent symbols over all words (the inputs have one clear
    winner) and merge every occurrence of it, left to right. Return (the pair, the new words)."""
    raise NotImplementedError
