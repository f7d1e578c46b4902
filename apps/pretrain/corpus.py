"""Pretraining data: read text files, clean them, drop exact and near duplicates, split train/validation.

    corpus = build(["lessons-zh", "seeds-zh", "my_notes.txt"], val_fraction=0.1, seed=0)
    corpus.report   # {"files", "chars_in", "paragraphs", "exact_dups", "near_dups", "kept", ...}
    corpus.train, corpus.val   # lists of cleaned paragraphs (documents), no paragraph in both

The unit is a paragraph (blank-line separated), short enough that a repeated boilerplate block is
caught and long enough to carry text. Near duplicates are found with MinHash over character
5-grams (works for Chinese without word segmentation) and LSH banding, then confirmed by the
estimated Jaccard similarity (`NEAR_DUP_JACCARD`).
"""
from __future__ import annotations

import hashlib
import html
import os
import random
import re
import unicodedata
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from apps.errors import LabError

REPO = Path(__file__).resolve().parents[2]
LESSONS = REPO / "curriculum" / "lessons"
MIN_CHARS = 12  # shorter paragraphs (headings, stray list markers) carry little to learn from
NEAR_DUP_JACCARD = 0.7  # estimated 5-gram Jaccard at or above this: a near duplicate
SHINGLE = 5
NUM_PERM, BANDS = 64, 16  # 16 bands x 4 rows: pairs at Jaccard 0.7 collide in some band with p ≈ 0.98
MAX_FILE_BYTES = 20 * 2**20


def seeds_dir() -> Path:
    """The Chinese seed documents: $LLMLAB_SEEDS, else shared/seeds beside the checkout (as in CI)."""
    return Path(os.environ.get("LLMLAB_SEEDS", REPO.parent / "shared" / "seeds"))


def shipped() -> dict[str, list[Path]]:
    """Named corpora that ship with the lab (only those present on this machine)."""
    found = {
        "lessons-zh": sorted(LESSONS.glob("*.zh.md")),
        "lessons-en": sorted(LESSONS.glob("*.en.md")),
        "seeds-zh": sorted(seeds_dir().glob("*.txt")) if seeds_dir().is_dir() else [],
    }
    return {name: paths for name, paths in found.items() if paths}


def resolve(items: list[str]) -> list[Path]:
    """Shipped corpus names and file paths → files. Unknown names and missing files raise LabError."""
    if not items:
        raise LabError("pretrain.no_corpus")
    named = shipped()
    paths: list[Path] = []
    for item in items:
        if item in named:
            paths += named[item]
        elif Path(item).is_file():
            paths.append(Path(item))
        else:
            raise LabError("pretrain.no_file", name=item, choices=", ".join(named) or "-")
    return paths


def read_text(path: Path) -> str:
    """Decode a text file (UTF-8, else GB18030 for older Chinese files); binary files raise LabError."""
    if path.stat().st_size > MAX_FILE_BYTES:
        raise LabError("pretrain.too_big", name=path.name, mb=MAX_FILE_BYTES // 2**20)
    raw = path.read_bytes()
    if b"\x00" in raw[:8192]:
        raise LabError("pretrain.binary", name=path.name)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise LabError("pretrain.binary", name=path.name)
    controls = sum(1 for ch in text[:8192] if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f")
    if controls > 0.01 * max(1, len(text[:8192])):
        raise LabError("pretrain.binary", name=path.name)
    return text


_MARKUP = [
    (re.compile(r"<!--.*?-->", re.S), " "),  # HTML comments
    (re.compile(r"<(script|style)\b.*?</\1>", re.S | re.I), " "),
    (re.compile(r"</?[A-Za-z][^>\n]*>"), " "),  # HTML tags
    (re.compile(r"^\s*```.*$", re.M), ""),  # code fence lines (the code inside stays: it is text too)
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),  # images
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links keep their text
    (re.compile(r"https?://\S+"), ""),
    (re.compile(r"^\s{0,3}#{1,6}\s*", re.M), ""),  # heading marks
    (re.compile(r"^\s*>\s?", re.M), ""),  # quote marks
    (re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+", re.M), ""),  # list markers
    (re.compile(r"^\s*\|?\s*:?-{3,}.*$", re.M), ""),  # table rules
    (re.compile(r"\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)|`"), ""),  # emphasis and code marks
    (re.compile(r"\s*\|\s*"), " "),  # table cells
]


def clean(text: str) -> str:
    """Decode HTML entities (web text carries `&#xff0c;` for "，"), NFKC-normalise (full-width
    letters/digits → ASCII), strip Markdown/HTML markup, drop control characters and squeeze
    spaces; paragraphs (blank-line separated) are kept."""
    text = unicodedata.normalize("NFKC", html.unescape(text)).replace("\r\n", "\n").replace("\r", "\n")
    for pattern, repl in _MARKUP:
        text = pattern.sub(repl, text)
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def paragraphs(text: str) -> list[str]:
    """Blank-line separated blocks; a file without blank lines is split at single newlines."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text)]
    if len(blocks) <= 1 and text.count("\n") > 3:
        blocks = [b.strip() for b in text.split("\n")]
    return [b for b in blocks if len(b) >= MIN_CHARS]


def _key(text: str) -> str:
    return hashlib.sha1(re.sub(r"\s+", "", text.lower()).encode()).hexdigest()


_PRIME = (1 << 31) - 1


def minhash(texts: list[str], num_perm: int = NUM_PERM, seed: int = 1) -> np.ndarray:
    """int64 (len(texts), num_perm): per text, the minimum of each of num_perm hash functions
    (a·x + b mod p) over its character 5-gram shingles (x = crc32 of the shingle, reduced mod p)."""
    rng = np.random.default_rng(seed)
    a = rng.integers(1, _PRIME, num_perm, dtype=np.int64)
    b = rng.integers(0, _PRIME, num_perm, dtype=np.int64)
    out = np.full((len(texts), num_perm), _PRIME, dtype=np.int64)
    for i, text in enumerate(texts):
        squeezed = re.sub(r"\s+", " ", text.lower())
        grams = {squeezed[j:j + SHINGLE] for j in range(max(1, len(squeezed) - SHINGLE + 1))}
        x = np.fromiter((zlib.crc32(g.encode()) % _PRIME for g in grams), dtype=np.int64, count=len(grams))
        out[i] = ((x[:, None] * a[None, :] + b[None, :]) % _PRIME).min(axis=0)  # a·x < 2^62: no overflow
    return out


def near_duplicates(texts: list[str], threshold: float = NEAR_DUP_JACCARD) -> set[int]:
    """Indices of texts that nearly repeat an earlier text (the first of a group is kept)."""
    if len(texts) < 2:
        return set()
    sigs = minhash(texts)
    rows = NUM_PERM // BANDS
    dropped: set[int] = set()
    buckets: dict[tuple, list[int]] = {}
    for i in range(len(texts)):
        candidates = set()
        for band in range(BANDS):
            key = (band, sigs[i, band * rows:(band + 1) * rows].tobytes())
            candidates.update(buckets.get(key, ()))
            buckets.setdefault(key, []).append(i)
        if any(float((sigs[i] == sigs[j]).mean()) >= threshold for j in candidates if j not in dropped):
            dropped.add(i)
    return dropped


@dataclass
class Corpus:
    train: list[str]
    val: list[str]
    report: dict = field(default_factory=dict)
    removed: list[tuple[str, str]] = field(default_factory=list)  # (why: exact|near, paragraph)

    def text(self, part: str = "train") -> str:
        return "\n\n".join(getattr(self, part))


def build(items: list[str], val_fraction: float = 0.1, seed: int = 0, near_dup: bool = True) -> Corpus:
    """Read, clean, deduplicate and split. Raises LabError for empty or binary input."""
    paths = resolve(items)
    chars_in, paras = 0, []
    for path in paths:
        text = read_text(path)
        chars_in += len(text)
        paras += paragraphs(clean(text))
    if not paras:
        raise LabError("pretrain.empty", names=", ".join(p.name for p in paths[:5]))
    seen, unique, removed = set(), [], []
    for para in paras:
        key = _key(para)
        if key in seen:
            removed.append(("exact", para))
        else:
            seen.add(key)
            unique.append(para)
    exact = len(removed)
    near = near_duplicates(unique) if near_dup else set()
    removed += [("near", unique[i]) for i in sorted(near)]
    kept = [p for i, p in enumerate(unique) if i not in near]
    # Whole paragraphs go to one side only, so validation text was never seen in training.
    order = list(range(len(kept)))
    random.Random(seed).shuffle(order)
    n_val = max(1, round(len(kept) * val_fraction)) if val_fraction > 0 and len(kept) >= 4 else 0
    val_idx = set(order[:n_val])
    train = [p for i, p in enumerate(kept) if i not in val_idx]
    val = [p for i, p in enumerate(kept) if i in val_idx]
    report = {"files": len(paths), "chars_in": chars_in, "paragraphs": len(paras), "exact_dups": exact,
              "near_dups": len(near), "kept": len(kept), "chars_out": sum(map(len, kept)),
              "train_paragraphs": len(train), "val_paragraphs": len(val),
              "train_chars": sum(map(len, train)), "val_chars": sum(map(len, val))}
    return Corpus(train=train, val=val, report=report, removed=removed)
