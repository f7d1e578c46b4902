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
_CITE = re.compile(r"\[(\d{1,2})\]")


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
    user = f"{sources_label}:\n\n" + "\n\n".join(blocks) + f"\n\n{question_label}: {question.strip()}"
    return [{"role": "system", "content": INSTRUCTIONS[lang]}, {"role": "user", "content": user}]


def show_prompt(messages: list[dict], model: str | None = None) -> str:
    """The exact text the model reads when `model` is a local registry model (its chat template, or
    a transcript for base models); for an API provider, the messages as they are sent."""
    if model:
        from apps.models import default_cache
        from apps.models.generation import render_prompt

        return render_prompt(default_cache().get(model), messages)
    return "\n\n".join(f"<{m['role']}>\n{m['content']}" for m in messages)


def citations(text: str, n_sources: int) -> list[int]:
    """Source numbers cited as [n] in `text`, in order of first use, within 1..n_sources."""
    seen: list[int] = []
    for match in _CITE.finditer(text):
        n = int(match.group(1))
        if 1 <= n <= n_sources and n not in seen:
            seen.append(n)
    return seen


@dataclass
class AnswerStep:
    text: str  # the answer so far
    done: bool = False
    seconds: float = 0.0  # since the call started
    ttft: float | None = None  # seconds to the first piece of text
    usage: dict = field(default_factory=dict)
    cited: list[int] = field(default_factory=list)


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
        yield AnswerStep(text, delta.done, time.perf_counter() - started, first, usage,
                         citations(text, len(hits)))
