"""A byte-level BPE tokenizer trained on the corpus with the `tokenizers` library.

    tok = train(corpus.train, vocab_size=2000)        # a transformers PreTrainedTokenizerFast
    tok.save_pretrained(folder)                        # AutoTokenizer.from_pretrained(folder) loads it
    learned_merges(tok)[:5]                            # [("大", "模"), ("大模", "型"), ...] in learning order
    chars_per_token(tok, text)                         # compression: higher = fewer tokens per character

Byte-level: the 256 byte values are the base alphabet, so any text (Chinese, emoji, code) encodes
with no unknown token, and a Chinese character (3 UTF-8 bytes) becomes one token once its bytes
are merged. BPE repeatedly merges the most frequent adjacent pair; it stops when no pair occurs at
least `min_frequency` times, which is why a small corpus cannot fill a large vocabulary.
"""
from __future__ import annotations

import json

from apps.errors import LabError

EOS = "<|endoftext|>"  # separates documents; also BOS and padding (a decoder-only LM needs no other)
BYTE_ALPHABET = 256
MIN_VOCAB, MAX_VOCAB = 300, 65_536


def _byte_decoder() -> dict[str, int]:
    """ByteLevel shows each byte as a printable character (GPT-2's table: printable Latin-1 bytes
    stand for themselves, the others are shifted to 256+); the inverse turns merges back into text."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    shifted = [b for b in range(256) if b not in keep]
    table = {b: chr(b) for b in keep} | {b: chr(256 + i) for i, b in enumerate(shifted)}
    return {ch: b for b, ch in table.items()}


def train(texts: list[str], vocab_size: int, min_frequency: int = 2):
    """Train byte-level BPE on `texts`; raises LabError when the corpus cannot support vocab_size."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    if not MIN_VOCAB <= vocab_size <= MAX_VOCAB:
        raise LabError("pretrain.vocab_range", size=vocab_size, low=MIN_VOCAB, high=MAX_VOCAB)
    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=[EOS],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tk.train_from_iterator(texts, trainer=trainer)
    got = tk.get_vocab_size()
    if got < vocab_size:
        raise LabError("pretrain.vocab_too_large", size=vocab_size, most=got)
    return PreTrainedTokenizerFast(tokenizer_object=tk, bos_token=EOS, eos_token=EOS, pad_token=EOS,
                                   clean_up_tokenization_spaces=False)


def learned_merges(tok) -> list[tuple[str, str]]:
    """The BPE merges in the order they were learned, as readable text (the bytes of a partial
    UTF-8 character show as \\xe5: Chinese characters are built from 3 bytes)."""
    model = json.loads(tok.backend_tokenizer.to_str())["model"]
    decode = _byte_decoder()

    def readable(piece: str) -> str:
        return bytes(decode.get(ch, 63) for ch in piece).decode("utf-8", "backslashreplace")

    out = []
    for merge in model["merges"]:
        left, right = merge if isinstance(merge, list) else merge.split(" ", 1)
        out.append((readable(left), readable(right)))
    return out


def chars_per_token(tok, text: str) -> float:
    """Compression: characters of `text` per token (no special tokens counted)."""
    n = len(tok(text, add_special_tokens=False)["input_ids"])
    return len(text) / n if n else 0.0


def compare(tokenizers: dict, samples: dict[str, str]) -> list[dict]:
    """[{"tokenizer", "vocab", "<lang>": chars/token, ...}] for each named tokenizer on each sample."""
    rows = []
    for name, tok in tokenizers.items():
        row = {"tokenizer": name, "vocab": len(tok)}
        row.update({lang: round(chars_per_token(tok, text), 3) for lang, text in samples.items()})
        rows.append(row)
    return rows


def encode_docs(tok, docs: list[str]) -> list[int]:
    """One token stream: each document followed by EOS, so the model learns where texts end."""
    eos = tok.convert_tokens_to_ids(EOS)
    ids: list[int] = []
    for batch_start in range(0, len(docs), 256):
        for row in tok(docs[batch_start:batch_start + 256], add_special_tokens=False)["input_ids"]:
            ids += row + [eos]
    return ids


REFERENCE = ("smollm2-135m-instruct", "gemma-3-270m")


def reference_tokenizers(names: tuple[str, ...] = REFERENCE) -> dict:
    """The shipped models' tokenizers, for comparison (first use converts a GGUF model once, shared
    with every tab through the lab's model folder cache)."""
    from apps.models.loading import model_dir
    from apps.models.registry import resolve

    return {name: _cached_tokenizer(model_dir(resolve(name))) for name in names}


_LOADED: dict[str, object] = {}


def _cached_tokenizer(path: str):
    from transformers import AutoTokenizer

    if path not in _LOADED:  # a read-only tokenizer shared by every user: loaded once per process
        _LOADED[path] = AutoTokenizer.from_pretrained(path)
    return _LOADED[path]


def compression_samples() -> dict[str, str]:
    """{"zh": ..., "en": ...}: the first lesson in each language, cleaned (the same text for every
    tokenizer, so the numbers compare)."""
    from apps.pretrain import corpus

    return {lang: corpus.clean(corpus.read_text(corpus.LESSONS / f"01-playground.{lang}.md")) for lang in ("zh", "en")}
