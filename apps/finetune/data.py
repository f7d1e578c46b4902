"""Datasets for fine-tuning: read, validate line by line, normalise, and mask the loss to the assistant.

Accepted JSONL (or a JSON list), one example per line, formats may be mixed for SFT:
  alpaca      {"instruction": "...", "input": "...", "output": "...", "system"?: "..."}
  sharegpt    {"conversations": [{"from": "human"|"gpt"|"system", "value": "..."}, ...]}
  messages    {"messages": [{"role": "system"|"user"|"assistant", "content": "..."}, ...]}
  completion  {"prompt": "...", "completion": "..."}
  preference  {"prompt": "..." | messages, "chosen": "..." | messages, "rejected": "..." | messages}

SFT examples become chat message lists; `encode_chat` renders them through the model's chat template
(a plain "### Question / ### Answer" template for base models) and returns `input_ids` and `labels`
with -100 on every token that is not the assistant's, which is exactly what the trainer sees and what
`preview` shows. Shipped samples live in curriculum/data/finetune/ (`samples()`).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from apps.errors import LabError

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "curriculum" / "data" / "finetune"
IGNORE = -100  # label value the cross-entropy skips (torch.nn.CrossEntropyLoss ignore_index)
MAX_SHOWN = 8  # bad lines named in one error message

# For base models (no chat template): a readable plain format that still ends answers with EOS,
# so a tuned base model learns to stop.
PLAIN_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}"
    "{% if m['role'] == 'system' %}{{ m['content'] }}\n\n"
    "{% elif m['role'] == 'user' %}### Question:\n{{ m['content'] }}\n\n"
    "{% else %}### Answer:\n{{ m['content'] }}{{ eos_token }}\n\n{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}### Answer:\n{% endif %}"
)
_SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                   "system": "system", "bot": "assistant", "model": "assistant"}


class DatasetError(LabError):
    """A dataset with bad lines; `problems` = [(line number, i18n key, params)], all reported at once."""

    def __init__(self, path: str, problems: list[tuple[int, str, dict]]):
        self.problems = problems
        super().__init__("finetune.bad_data", path=path, count=len(problems))

    def message(self, lang: str = "en") -> str:
        from apps.i18n import t

        lines = [t("finetune.data.line", lang, line=n, why=t(key, lang, **params)) for n, key, params in self.problems]
        more = len(lines) - MAX_SHOWN
        text = "\n".join(lines[:MAX_SHOWN]) + (f"\n… (+{more})" if more > 0 else "")
        return t(self.key, lang, **self.params) + "\n" + text


@dataclass
class Dataset:
    path: str
    fmt: str  # the formats seen, e.g. "alpaca" or "messages+completion"
    sft: list[list[dict]]  # chat message lists, each ending with an assistant turn
    pairs: list[dict]  # {"prompt": messages, "chosen": [assistant msg], "rejected": [assistant msg]}

    def __len__(self) -> int:
        return len(self.sft)


def samples() -> dict[str, Path]:
    """Shipped sample datasets, name → path (name = file stem, e.g. 'alpaca_en')."""
    return {p.stem: p for p in sorted(SAMPLES_DIR.glob("*.jsonl"))}


def resolve_path(data: str) -> Path:
    data = (data or "").strip()
    if data in samples():
        return samples()[data]
    path = Path(data).expanduser()
    if not data or not path.is_file():
        raise LabError("finetune.no_data", data=data, choices=", ".join(samples()))
    return path


def keep_upload(path: str, root: Path, owner: str = "local") -> str:
    """Copy an uploaded file (a temp file the web server may delete) to
    <runs root>/datasets/<owner>/<random>-<name>, so the run, its run.yaml and any rerun keep
    pointing at a file that exists and that no later upload (anyone's, same name or not) replaces.
    `owner`: the user's folder name (apps.auth.User.folder)."""
    import secrets
    import shutil

    src = Path(path)
    if not owner or "/" in owner or owner.startswith("."):
        raise LabError("auth.not_signed_in")
    name = re.sub(r"[^\w.-]+", "_", src.name)[-80:] or "data.jsonl"
    target = Path(root) / "datasets" / owner / f"{secrets.token_hex(4)}-{name}"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(src, tmp)
    tmp.replace(target)
    return str(target)


def _text(value) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _as_messages(value, role: str) -> list[dict] | None:
    if _text(value):
        return [{"role": role, "content": value}]
    if isinstance(value, list) and value and all(isinstance(m, dict) and _text(m.get("content")) for m in value):
        return [{"role": m.get("role", role), "content": m["content"]} for m in value]
    return None


def _check_chat(msgs: list[dict]) -> tuple[str, dict] | None:
    roles = [m.get("role") for m in msgs]
    if any(r not in ("system", "user", "assistant") for r in roles):
        return "finetune.data.bad_role", {"roles": ", ".join(map(str, roles))}
    if any(not _text(m.get("content")) for m in msgs):
        return "finetune.data.empty_turn", {}
    if roles[-1] != "assistant":
        return "finetune.data.no_answer", {}
    return None


def parse_example(obj) -> tuple[str, list[dict] | dict] | tuple[None, tuple[str, dict]]:
    """One decoded line → ("alpaca"|..., messages or pair) or (None, (i18n key, params))."""
    if not isinstance(obj, dict):
        return None, ("finetune.data.not_object", {})
    if "chosen" in obj or "rejected" in obj:
        prompt, chosen, rejected = (_as_messages(obj.get(k), r) for k, r in
                                    (("prompt", "user"), ("chosen", "assistant"), ("rejected", "assistant")))
        missing = [k for k, v in (("prompt", prompt), ("chosen", chosen), ("rejected", rejected)) if v is None]
        if missing:
            return None, ("finetune.data.missing", {"fields": ", ".join(missing), "fmt": "preference"})
        # The answer is the last turn; anything before it in "chosen" belongs to the prompt.
        return "preference", {"prompt": prompt + chosen[:-1], "chosen": [dict(chosen[-1], role="assistant")],
                              "rejected": [dict(rejected[-1], role="assistant")]}
    if "messages" in obj or "conversations" in obj:
        fmt = "messages" if "messages" in obj else "sharegpt"
        turns = obj.get(fmt if fmt == "messages" else "conversations")
        if not isinstance(turns, list) or not turns:
            return None, ("finetune.data.missing", {"fields": fmt, "fmt": fmt})
        if fmt == "sharegpt":
            turns = [{"role": _SHAREGPT_ROLES.get(t.get("from"), t.get("from")), "content": t.get("value")}
                     if isinstance(t, dict) else {} for t in turns]
        msgs = [{"role": t.get("role"), "content": t.get("content")} if isinstance(t, dict) else {} for t in turns]
        problem = _check_chat(msgs)
        return (None, problem) if problem else (fmt, msgs)
    if "instruction" in obj or "output" in obj:
        if not _text(obj.get("instruction")) or not _text(obj.get("output")):
            missing = [k for k in ("instruction", "output") if not _text(obj.get(k))]
            return None, ("finetune.data.missing", {"fields": ", ".join(missing), "fmt": "alpaca"})
        user = obj["instruction"] + (f"\n\n{obj['input']}" if _text(obj.get("input")) else "")
        msgs = ([{"role": "system", "content": obj["system"]}] if _text(obj.get("system")) else [])
        return "alpaca", msgs + [{"role": "user", "content": user}, {"role": "assistant", "content": obj["output"]}]
    if "prompt" in obj or "completion" in obj:
        if not _text(obj.get("prompt")) or not _text(obj.get("completion")):
            missing = [k for k in ("prompt", "completion") if not _text(obj.get(k))]
            return None, ("finetune.data.missing", {"fields": ", ".join(missing), "fmt": "completion"})
        return "completion", [{"role": "user", "content": obj["prompt"]},
                              {"role": "assistant", "content": obj["completion"]}]
    return None, ("finetune.data.unknown_format", {"keys": ", ".join(sorted(map(str, obj)))[:120]})


def _records(path: Path) -> list[tuple[int, object]]:
    """(line number, decoded JSON or a decode error) for a .jsonl file or a .json list."""
    from apps.finetune.config import read_text

    text = read_text(path)
    if path.suffix == ".json" and text.lstrip().startswith("["):
        try:
            return list(enumerate(json.loads(text), start=1))
        except json.JSONDecodeError as exc:
            return [(exc.lineno, exc)]
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                out.append((n, json.loads(line)))
            except json.JSONDecodeError as exc:
                out.append((n, exc))
    return out


def load(data: str, objective: str = "sft") -> Dataset:
    """Read and validate every line; raise DatasetError naming each bad one. SFT also accepts
    preference pairs (it learns the chosen answer); DPO needs pairs; GRPO needs prompts only."""
    if objective == "grpo":  # the policy writes the answers: `sft` holds prompts (apps/align/grpo.py)
        from apps.align.grpo import load_prompts

        return load_prompts(data)
    path = resolve_path(data)
    sft, pairs, fmts, problems = [], [], [], []
    for n, obj in _records(path):
        if isinstance(obj, json.JSONDecodeError):
            problems.append((n, "finetune.data.bad_json", {"why": obj.msg}))
            continue
        fmt, value = parse_example(obj)
        if fmt is None:
            problems.append((n, *value))
            continue
        if fmt not in fmts:
            fmts.append(fmt)
        if fmt == "preference":
            pairs.append(value)
            sft.append(value["prompt"] + value["chosen"])
        elif objective in ("dpo", "reward"):  # both learn from pairs only
            problems.append((n, "finetune.data.needs_pairs", {"fmt": fmt}))
        else:
            sft.append(value)
    if problems:
        raise DatasetError(str(path), problems)
    if not sft:
        raise LabError("finetune.empty_data", path=str(path))
    return Dataset(path=str(path), fmt="+".join(fmts), sft=sft, pairs=pairs)


def chat_template(tokenizer) -> str:
    return getattr(tokenizer, "chat_template", None) or PLAIN_TEMPLATE


def render(tokenizer, messages: list[dict], add_generation_prompt: bool = False) -> str:
    return tokenizer.apply_chat_template(messages, chat_template=chat_template(tokenizer), tokenize=False,
                                         add_generation_prompt=add_generation_prompt)


def assistant_spans(tokenizer, messages: list[dict]) -> tuple[str, list[tuple[int, int]]]:
    """The rendered text and the character spans [start, end) of every assistant turn, end tokens
    included (so the model learns to stop). Found by rendering prefixes: text(turns[:i], generation
    prompt) .. text(turns[:i+1]); if a template rewrites earlier turns, fall back to finding the text."""
    full = render(tokenizer, messages)
    spans, cursor = [], 0
    for i, msg in enumerate(messages):
        if msg["role"] != "assistant":
            continue
        before = render(tokenizer, messages[:i], add_generation_prompt=True) if i else ""
        upto = render(tokenizer, messages[: i + 1])
        if full.startswith(upto) and upto.startswith(before) and len(before) >= cursor:
            # the newline a template puts after the end token is layout, not something to learn
            spans.append((len(before), len(upto.rstrip())))
        else:
            start = full.find(msg["content"], cursor)
            if start < 0:
                continue
            spans.append((start, start + len(msg["content"])))
        cursor = spans[-1][1]
    return full, spans


def encode_chat(tokenizer, messages: list[dict], max_length: int, with_text: bool = False) -> dict:
    """→ {"input_ids": [int] (T,), "labels": [int] (T,), -100 outside assistant turns}; T <= max_length.
    with_text adds "pieces": the text of each token cut from the rendered string by its offsets (a
    byte-level token holding half a Chinese character gets "" and its neighbour the whole character)."""
    text, spans = assistant_spans(tokenizer, messages)
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, labels, pieces, seen = [], [], [], 0
    for tok, (s, e) in zip(enc["input_ids"], enc["offset_mapping"]):
        trained = any(s < end and max(e, s + 1) > start for start, end in spans)
        ids.append(tok)
        labels.append(tok if trained else IGNORE)
        pieces.append(text[max(s, seen):e])
        seen = max(seen, e)
    out = {"input_ids": ids[:max_length], "labels": labels[:max_length]}
    if with_text:
        out["pieces"], out["text"], out["n_total"] = pieces[:max_length], text, len(ids)
    return out


def preview(tokenizer, dataset: Dataset, n: int = 3, max_length: int = 256) -> list[dict]:
    """The first n examples as the trainer sees them: [{"tokens": [(text, trained)], "n_tokens",
    "n_trained", "truncated", "text"}]."""
    out = []
    for messages in dataset.sft[:n]:
        enc = encode_chat(tokenizer, messages, max_length=max_length, with_text=True)
        tokens = [(piece, lab != IGNORE) for piece, lab in zip(enc["pieces"], enc["labels"])]
        out.append({"tokens": tokens, "n_tokens": len(tokens), "n_trained": sum(1 for _, t in tokens if t),
                    "truncated": enc["n_total"] > max_length, "text": enc["text"]})
    return out
