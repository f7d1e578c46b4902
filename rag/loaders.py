"""Turning files into text: .txt/.md (with encoding detection for GBK/GB18030 Chinese), .pdf
(pypdf), .html (BeautifulSoup), .docx (python-docx).

    from rag.loaders import load_paths
    docs = load_paths(["notes/", "paper.pdf"])     # list[Document(source, text)]

Every failure a user can cause (empty, binary, encrypted, huge, unsupported, a folder with no text)
is a LabError with a bilingual message, raised before anything is written anywhere.
"""
from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from apps.errors import LabError

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".rst", ".text"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | {".pdf", ".docx"}
# A single file larger than this is refused: an index of it would not fit a lab machine's budget
# anyway, and reading it would stall the UI. Override with LLMLAB_RAG_MAX_MB.
MAX_FILE_MB = float(os.environ.get("LLMLAB_RAG_MAX_MB", "50"))


@dataclass
class Document:
    """One loaded file: `source` is the name shown to users (the path as given), `text` its text."""

    source: str
    text: str


def _decode(data: bytes, name: str) -> str:
    """Bytes of a text file → str. UTF-8 first (with BOM), then charset detection, which is what
    finds GBK/GB18030 in files written by older Chinese Windows tools."""
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise LabError("rag.binary_file", name=name)
    for encoding in ("utf-8-sig",):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise LabError("rag.binary_file", name=name)
    encoding = best.encoding
    # charset-normalizer sometimes names a close cousin (gb2312, big5hkscs…); GB18030 is the superset
    # of GB2312/GBK, so decoding Chinese with it never loses a character the smaller ones know.
    if encoding.replace("_", "").lower() in ("gb2312", "gbk", "hz"):
        encoding = "gb18030"
    text = data.decode(encoding, errors="replace")
    if _garbage_ratio(text) > 0.1:
        raise LabError("rag.binary_file", name=name)
    return text


def _garbage_ratio(text: str) -> float:
    """Share of control/replacement characters in a sample: high means it was not text."""
    sample = text[:20000]
    if not sample:
        return 0.0
    bad = sum(1 for c in sample if c == "\ufffd" or (unicodedata.category(c) == "Cc" and c not in "\n\r\t\f"))
    return bad / len(sample)


def _load_pdf(path: Path, name: str) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            # An empty owner password opens many "protected" PDFs that only restrict printing.
            try:
                if not reader.decrypt(""):
                    raise LabError("rag.encrypted", name=name)
            except LabError:
                raise
            except Exception as exc:  # noqa: BLE001 - pypdf raises several types for bad crypto
                raise LabError("rag.encrypted", name=name) from exc
        pages = [page.extract_text() or "" for page in reader.pages]
    except LabError:
        raise
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise LabError("rag.unreadable", name=name, reason=str(exc)[:200]) from exc
    return "\n\n".join(p.strip() for p in pages if p.strip())


def _load_html(data: bytes, name: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(data, name), "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer"]):
        tag.decompose()
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    return "\n".join(line for line in lines if line)


def _load_docx(path: Path, name: str) -> str:
    import docx

    try:
        document = docx.Document(str(path))
    except Exception as exc:  # noqa: BLE001 - python-docx raises PackageNotFoundError, BadZipFile, KeyError…
        raise LabError("rag.unreadable", name=name, reason=str(exc)[:200]) from exc
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:  # tables carry much of the content in reports
        for row in table.rows:
            parts.append(" | ".join(cell.text.strip() for cell in row.cells))
    return "\n".join(p for p in parts if p.strip())


def load_file(path: str | Path, name: str | None = None) -> Document:
    """One file → Document. `name` is what users see as its source (default: the path)."""
    path = Path(path)
    name = name or str(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise LabError("rag.unsupported", name=name, suffixes=" ".join(sorted(SUFFIXES)))
    size = path.stat().st_size
    if size == 0:
        raise LabError("rag.empty_file", name=name)
    if size > MAX_FILE_MB * (1 << 20):
        raise LabError("rag.too_big", name=name, mb=round(size / (1 << 20), 1), limit=MAX_FILE_MB)
    if suffix == ".pdf":
        text = _load_pdf(path, name)
    elif suffix == ".docx":
        text = _load_docx(path, name)
    else:
        data = path.read_bytes()
        text = _load_html(data, name) if suffix in HTML_SUFFIXES else _decode(data, name)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise LabError("rag.empty_file", name=name)
    return Document(source=name, text=text)


def load_paths(paths: list[str | Path], skip_bad: bool = False, names: list[str] | None = None,
               errors: list[LabError] | None = None) -> list[Document]:
    """Files and folders (searched recursively for known suffixes) → Documents.

    skip_bad: skip files that fail to load (appending their LabError to `errors`) instead of stopping;
    if nothing loads, the first failure is raised (or rag.no_text when there was nothing to try).
    names: what users call each path (an upload's original file name instead of its temp path).
    """
    docs: list[Document] = []
    failures: list[LabError] = [] if errors is None else errors
    for n, raw in enumerate(paths):
        path = Path(raw).expanduser()
        shown = names[n] if names and n < len(names) else str(raw)
        if not path.exists():
            raise LabError("rag.not_found", name=shown)
        if path.is_file():
            files = [(path, shown)]
        else:
            files = [(p, str(p)) for p in sorted(path.rglob("*")) if p.is_file() and p.suffix.lower() in SUFFIXES
                     and not any(part.startswith(".") for part in p.relative_to(path).parts)]
            if not files:
                raise LabError("rag.no_text", name=shown)
        for file, name in files:
            try:
                docs.append(load_file(file, name))
            except LabError as exc:
                if not skip_bad:
                    raise
                failures.append(exc)
    if not docs:
        if failures:
            raise failures[0]
        raise LabError("rag.no_text", name=", ".join(map(str, paths)) or "-")
    return docs
