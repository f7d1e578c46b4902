"""HTML for retrieved chunks: each chunk in its source, query terms marked, scores shown.

No gradio here: the tab puts the string into a gr.HTML, and anything else can too. All document
text is escaped; only our own tags (<mark>, <div>, <span>) are emitted.
"""
from __future__ import annotations

import html
import re

from rag.glossary import expansions
from rag.lexical import normalize, query_tokens

CONTEXT_CHARS = 80  # characters of the source shown (dimmed) before and after a chunk


def _terms(query: str) -> list[str]:
    """Query words worth marking: Latin words and Chinese bigrams (+ glossary synonyms), longest first."""
    terms = {t for t in query_tokens(query) if len(t) >= 2}
    terms |= {normalize(t) for t in expansions(query) if len(t) >= 2}
    return sorted(terms, key=len, reverse=True)


def mark(text: str, query: str) -> str:
    """Escape `text` and wrap every occurrence of a query term in <mark> (case-insensitive)."""
    terms = _terms(query)
    if not terms:
        return html.escape(text)
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    # Match on the NFKC/lowercased text, which keeps length for the characters we mark; when the
    # normalised text has another length (rare compatibility characters) fall back to plain escaping.
    folded = normalize(text)
    if len(folded) != len(text):
        return html.escape(text)
    out, pos = [], 0
    for match in pattern.finditer(folded):
        out.append(html.escape(text[pos:match.start()]))
        out.append(f"<mark>{html.escape(text[match.start():match.end()])}</mark>")
        pos = match.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)


def hits_html(hits: list, query: str, documents: dict[str, str] | None = None, labels: dict | None = None) -> str:
    """One card per hit: rank, source:offsets, fused/dense/BM25 scores, the chunk marked in context.

    labels: translated words {"score", "dense", "lexical", "chars", "empty"} from the caller's language.
    """
    labels = labels or {}
    if not hits:
        return f"<div class='rag-empty'>{html.escape(labels.get('empty', '-'))}</div>"
    documents = documents or {}
    cards = []
    for hit in hits:
        c = hit.chunk
        doc = documents.get(c.source)
        before = doc[max(0, c.start - CONTEXT_CHARS):c.start] if doc else ""
        after = doc[c.end:c.end + CONTEXT_CHARS] if doc else ""
        scores = [f"{labels.get('score', 'score')} {hit.score:.4f}"]
        if hit.dense is not None:
            scores.append(f"{labels.get('dense', 'cos')} {hit.dense:.3f}")
        if hit.lexical is not None:
            scores.append(f"{labels.get('lexical', 'BM25')} {hit.lexical:.2f}")
        name = c.source.replace("\\", "/").rsplit("/", 1)[-1]
        cards.append(
            "<div class='rag-hit' style='border:1px solid #ddd;border-radius:6px;padding:6px 10px;margin:6px 0'>"
            f"<div><b>[{hit.rank}]</b> <span title='{html.escape(c.source)}'>{html.escape(name)}</span> "
            f"<span style='color:#666'>· {labels.get('chars', 'chars')} {c.start}–{c.end} · {' · '.join(scores)}</span></div>"
            "<div style='white-space:pre-wrap;font-size:0.92em;margin-top:4px'>"
            f"<span style='color:#999'>{'…' if before else ''}{html.escape(before)}</span>"
            f"<span style='background:#fff7d6'>{mark(c.text, query)}</span>"
            f"<span style='color:#999'>{html.escape(after)}{'…' if after else ''}</span></div></div>")
    return "\n".join(cards)


def answer_footer(report, sources: list[str], lang: str, question: str = "", answer: str = "",
                  model_languages: tuple[str, ...] = ("zh", "en")) -> str:
    """The lines under an answer, in the UI language `lang`: which retrieved chunks (`sources`: the
    retrieved chunks' source paths, in rank order) it really cites
    (rag.answer.Citations `report`), numbers it names that were not retrieved, markers that cite
    nothing, and a word when the model does not, or cannot, answer in the question's language."""
    from apps.i18n import t
    from rag.answer import prompt_lang, same_language

    name = lambda n: sources[n - 1].replace("\\", "/").rsplit("/", 1)[-1]  # noqa: E731
    refs = ", ".join(f"[{n}] {name(n)}" for n in report.cited)
    lines = [t("rag.answer.cited", lang, refs=refs) if refs else t("rag.answer.none_cited", lang)]
    if report.unknown:
        lines.append(t("rag.answer.unknown", lang, refs=" ".join(f"[{n}]" for n in report.unknown), k=len(sources)))
    if report.listed:
        lines.append(t("rag.answer.listed", lang))
    wanted = prompt_lang(question) if question else None
    if wanted and wanted not in model_languages:
        lines.append(t("rag.answer.cannot_lang", lang, want=t(f"rag.lang.{wanted}", lang)))
    elif wanted and answer and not same_language(question, answer):
        lines.append(t("rag.answer.other_lang", lang, want=t(f"rag.lang.{wanted}", lang)))
    return "  \n".join(lines)
