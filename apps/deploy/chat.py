"""A multi-turn chat session for the terminal (`llmlab chat`): the conversation, the system prompt,
the decoding settings and the slash commands, with no terminal I/O (apps/deploy/cli.py does that).

    s = ChatSession("smollm2-135m-instruct")          # or "m@llama.cpp", a .gguf file, a folder, a hub id
    s.open()                                           # loads the model (shared cache)
    for text in s.reply("Hi!", cancel=threading.Event()):  # the reply so far, growing
        ...
    s.command("/params temperature=0.7 max_tokens=64")

Every reply goes through the lab's generation engine (`apps.models.generation.start`): the batching
engine for PyTorch models, the llama.cpp engine for GGUF files. A cancelled reply keeps what was
said so far in the history, as the Playground does.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

from apps.errors import LabError
from apps.i18n import t

PARAMS = {  # what /params may set: name → (GenerationConfig field, type)
    "max_tokens": ("max_new_tokens", int), "temperature": ("temperature", float), "top_p": ("top_p", float),
    "top_k": ("top_k", int), "min_p": ("min_p", float), "repetition_penalty": ("repetition_penalty", float),
    "seed": ("seed", int),
}
COMMANDS = ("/help", "/reset", "/save", "/model", "/params", "/system", "/exit")


@dataclass
class Stats:
    tokens: int
    tokens_per_s: float
    ttft_ms: float
    finish: str


@dataclass
class ChatSession:
    model: str
    system: str = ""
    params: dict = field(default_factory=lambda: {"max_tokens": 256, "temperature": 0.0})
    lang: str = "en"
    user: str = "local"
    messages: list[dict] = field(default_factory=list)
    last: Stats | None = None
    lm: object = None

    def open(self, cache=None):
        """Load (or fetch from the shared cache) the session's model; LabError when it cannot."""
        from apps.models import default_cache

        cache = cache or default_cache()
        lm = cache.get(self.model)
        if lm.kind == "embedding":
            raise LabError("models.not_generative", name=self.model)
        self.lm = lm
        return lm

    def memory_line(self) -> str | None:
        """For a GGUF run by llama.cpp: memory needed vs available, shown before it loads."""
        from apps.models import llamacpp

        if not llamacpp.is_ref(self.model):
            return None
        spec = llamacpp.resolve(self.model)
        return llamacpp.describe(llamacpp.plan(llamacpp.file_of(spec)), self.lang)

    def config(self):
        from apps.models.generation import GenerationConfig

        values = {PARAMS[k][0]: v for k, v in self.params.items() if k in PARAMS}
        temperature = values.pop("temperature", 0.0)
        sample = temperature > 0
        return GenerationConfig(do_sample=sample, temperature=temperature if sample else 1.0,
                                top_logprobs=0, **values).validate()

    def reply(self, text: str, cancel: threading.Event | None = None):
        """Yield the reply so far while it streams; the turn (and what was said, if cancelled) is kept."""
        from apps.models.generation import start

        if not text.strip():
            raise LabError("gen.empty_prompt")
        cfg = self.config()
        turns = self.messages + [{"role": "user", "content": text}]
        req = start(self.lm, turns, cfg, cancel=cancel, system=self.system or None, user=self.user)
        shown, result = "", None
        try:
            for chunk in req:
                if chunk.text != shown:
                    shown = chunk.text
                    yield shown
                result = chunk.result or result
        finally:
            if hasattr(req, "close"):
                req.close()  # Ctrl-C raised inside the loop: the sequence ends at the engine's next step
            final = result.text if result is not None else shown
            self.messages = turns + [{"role": "assistant", "content": final}]
            if result is not None:
                self.last = Stats(result.completion_tokens, result.tokens_per_s, result.ttft_s * 1000,
                                  result.finish_reason)
        if result is not None and result.text != shown:
            yield result.text

    # ------------------------------------------------------------ slash commands

    def command(self, line: str) -> tuple[str, bool]:
        """Run a slash command. Returns (what to print, whether to leave)."""
        name, _, arg = line.strip().partition(" ")
        arg = arg.strip()
        if name in ("/exit", "/quit"):
            return "", True
        if name == "/help":
            return t("chat.help", self.lang), False
        if name == "/reset":
            self.messages = []
            return t("chat.reset", self.lang), False
        if name == "/save":
            return self.save(arg), False
        if name == "/system":
            if arg:
                self.system = arg
            return t("chat.system", self.lang, system=self.system or "—"), False
        if name == "/params":
            self.set_params(arg)
            return t("chat.params", self.lang, params=self.describe_params()), False
        if name == "/model":
            if not arg:
                return t("chat.model", self.lang, model=self.model, choices=", ".join(model_choices())), False
            previous, self.model = self.model, arg
            try:
                self.open()
            except LabError:
                self.model = previous
                raise
            return t("chat.model_switched", self.lang, model=self.model), False
        raise LabError("chat.unknown_command", name=name, commands=" ".join(COMMANDS))

    def set_params(self, arg: str) -> None:
        """"temperature=0.7 max_tokens=64": checked as a whole before any is kept."""
        new = dict(self.params)
        for item in arg.split():
            key, eq, value = item.partition("=")
            if not eq or key not in PARAMS:
                raise LabError("gen.bad_param", name=key or item, why="name=value with " + ", ".join(PARAMS))
            try:
                new[key] = PARAMS[key][1](value)
            except ValueError:
                raise LabError("gen.bad_param", name=key, why=f"not a {PARAMS[key][1].__name__}: {value}") from None
        previous, self.params = self.params, new
        try:
            self.config()
        except LabError:
            self.params = previous
            raise

    def describe_params(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.params.items())

    def save(self, path: str) -> str:
        """The conversation as JSON (model, system, settings, messages), written atomically."""
        if not path:
            raise LabError("chat.save_needs_file")
        target = Path(path).expanduser()
        payload = {"model": self.model, "system": self.system, "params": self.params, "messages": self.messages}
        tmp = target.with_name(target.name + ".tmp")
        try:
            tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
            tmp.replace(target)
        except OSError as exc:
            raise LabError("chat.save_failed", path=str(target), reason=exc.strerror or str(exc)) from exc
        return t("chat.saved", self.lang, path=str(target), n=len(self.messages))


def model_choices() -> list[str]:
    """What /model can switch to: registry chat/base models, the llama.cpp ones when installed, and
    the models trained in the lab on this machine (folders; adapters as "base+adapter:folder")."""
    from apps.models import llamacpp, registry

    names = [s.name for s in registry.list_models() if s.kind != registry.EMBEDDING] + llamacpp.served_ids()
    try:
        from apps.auth import LOCAL
        from apps.finetune import runs
        from apps.pretrain.jobs import list_models

        names += [registry.model_ref(a["base_model"], a["adapter_path"]) for a in runs.list_adapters(user=LOCAL)]
        names += [m["model_path"] for m in runs.list_tuned_models(user=LOCAL)]
        names += [m["model_path"] for m in list_models(owner=LOCAL)]
    except (OSError, LabError):
        pass
    return names
