"""Answering from retrieved chunks: a prompt that numbers its sources [1], [2]… and a streamed,
cited answer from a registry model or any OpenAI-compatible provider (apps.tasks.providers).

    from rag.answer import build_messages, stream_answer
    messages = build_messages(question, result.hits)            # list of {role, content}
    for step in stream_answer(question, result.hits, model="smollm2-135m-instruct"):
        print(step.text)                                        # accumulated answer
    # or a provider: stream_answer(..., provider=ProviderConfig("deepseek", api_key=key))

The prompt's language follows the question (Chinese question → Chinese instructions), not the UI.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from apps.errors import LabError
from rag.embed import cjk_share

INSTRUCTIONS = {
    "zh": ("你是一个严谨的问答助手。只根据下面编号的资料回答问题，在用到资料的句子末尾用 [编号] 标注出处，"
           "例如 [1]。如果资料里没有答案，就回答“资料中没有找到答案”，不要编造。回答要简洁。"),
    "en": ("You are a careful assistant. Answer the question using only the numbered sources below, and cite "
           "them as [n] at the end of each sentence that uses them, e.g. [1]. If the sources do not contain the "
           "answer, say that the sources do not say, and do not make anything up. Be concise."),
}
LABELS = {"zh": ("资料", "问题"), "en": ("Sources", "Question")}
# Said last, next to the question: a small model follows the instruction nearest its reply best.
REPLY_IN = {"zh": "请用中文回答。", "en": "Answer in English."}
# A marker: [3], [1, 2], [1][2] or the full-width 【3】 some models write; never an unclosed "[17".
_MARKER = re.compile(r"[\[【]\s*(\d{1,3}(?:\s*[,，、]\s*\d{1,3})*)\s*[\]】]")
_LETTER = re.compile(r"[^\W\d_]")  # a letter or a Chinese character: the marker follows a statement


def prompt_lang(question: str) -> str:
    return "zh" if cjk_share(question) > 0.3 else "en"


def build_messages(question: str, hits: list, max_chars: int = 3000, lang: str | None = None) -> list[dict]:
    """Chat messages: system instructions, then the numbered sources and the question.

    hits: rag.store.Hit objects (best first). Sources are cut to `max_chars` characters in total so a
    small model's context is not flooded; a source that does not fit whole is shortened, not dropped.
    """
    if not question.strip():
        raise LabError("rag.empty_query")
    lang = lang or prompt_lang(question)
    sources_label, question_label = LABELS[lang]
    blocks, used = [], 0
    for n, hit in enumerate(hits, 1):
        room = max_chars - used
        if room <= 40:
            break
        text = hit.chunk.text if len(hit.chunk.text) <= room else hit.chunk.text[:room] + "…"
        used += len(text)
        name = hit.chunk.source.replace("\\", "/").rsplit("/", 1)[-1]
        blocks.append(f"[{n}] ({name})\n{text}")
    user = (f"{sources_label}:\n\n" + "\n\n".join(blocks) + f"\n\n{question_label}: {question.strip()}"
            f"\n\n{REPLY_IN[lang]}")
    return [{"role": "system", "content": INSTRUCTIONS[lang]}, {"role": "user", "content": user}]


def show_prompt(messages: list[dict], model: str | None = None) -> str:
    """The exact text the model reads when `model` is a local registry model (its chat template, or
    a transcript for base models); for an API provider, the messages as they are sent."""
    if model:
        from apps.models import default_cache
        from apps.models.generation import render_prompt

        return render_prompt(default_cache().get(model), messages)
    return "\n\n".join(f"<{m['role']}>\n{m['content']}" for m in messages)


@dataclass
class Citations:
    """What an answer's [n] markers really say about the `n_sources` retrieved chunks."""

    cited: list[int] = field(default_factory=list)  # retrieved chunks cited after a statement, first use first
    unknown: list[int] = field(default_factory=list)  # numbers cited that no retrieved chunk has
    listed: bool = False  # markers with no statement before them (e.g. "[1] [2] … [17"): not citations


def citation_report(text: str, n_sources: int) -> Citations:
    """Parse `text`'s markers. Markers separated only by spaces or punctuation form one run; a run
    cites only if some words stand between it and the previous run, so a reply that merely echoes
    the source numbers ("[1] [2] [3] …") cites nothing. Numbers outside 1..n_sources are `unknown`."""
    out = Citations()
    runs: list[tuple[bool, list[int]]] = []  # (follows a statement, numbers)
    last_end = 0
    for match in _MARKER.finditer(text):
        numbers = [int(x) for x in re.split(r"\s*[,，、]\s*", match.group(1))]
        between = text[last_end:match.start()]
        if runs and not _LETTER.search(between):
            runs[-1][1].extend(numbers)  # same run: "[1][2]", "[1], [2]"
        else:
            runs.append((bool(_LETTER.search(between)), numbers))
        last_end = match.end()
    for stated, numbers in runs:
        if not stated:
            out.listed = True
        for n in numbers:
            if not 1 <= n <= n_sources:
                if n not in out.unknown:
                    out.unknown.append(n)
            elif stated and n not in out.cited:
                out.cited.append(n)
    return out


def citations(text: str, n_sources: int) -> list[int]:
    """Retrieved chunks (1..n_sources) that `text` cites after a statement, in order of first use."""
    return citation_report(text, n_sources).cited


def same_language(question: str, answer: str) -> bool:
    """Does the answer speak the question's language (Chinese vs not)? Empty answers pass."""
    letters = _MARKER.sub("", answer)
    if len(_LETTER.findall(letters)) < 4:
        return True
    return (cjk_share(letters) > 0.2) == (prompt_lang(question) == "zh")


@dataclass
class AnswerStep:
    text: str  # the answer so far
    done: bool = False
    seconds: float = 0.0  # since the call started
    ttft: float | None = None  # seconds to the first piece of text
    usage: dict = field(default_factory=dict)
    cited: list[int] = field(default_factory=list)
    report: Citations = field(default_factory=Citations)


def stream_answer(question: str, hits: list, model: str | None = "smollm2-135m-instruct", provider=None,
                  max_tokens: int = 200, temperature: float = 0.0, max_chars: int = 3000):
    """Yield AnswerSteps while the answer streams. provider: an apps.tasks.providers.ProviderConfig
    (wins over `model`); otherwise `model` is a registry chat or base model run in-process."""
    from apps.tasks.providers import ProviderConfig, stream_chat

    if not hits:
        raise LabError("rag.no_hits")
    messages = build_messages(question, hits, max_chars)
    if provider is None:  # in-process: stream_chat renders the messages with the model's template
        provider = ProviderConfig("local", model=model)
    started, first, text = time.perf_counter(), None, ""
    for delta in stream_chat(provider, messages, max_tokens=max_tokens, temperature=temperature):
        if delta.delta and first is None:
            first = time.perf_counter() - started
        text = delta.text
        usage = delta.usage.as_dict() if delta.usage else {}
        report = citation_report(text, len(hits))
        yield AnswerStep(text, delta.done, time.perf_counter() - started, first, usage, report.cited, report)
