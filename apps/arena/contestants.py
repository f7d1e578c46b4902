"""Who can fight in the arena: a registry model, a model plus a fine-tuned adapter, an API
provider's model, or a model under a given decoding setting (so decoding strategies get ranked too).

A contestant is written as one short string, used by the CLI, the UI and the stored settings:

    smollm2-135m-instruct                         registry model, greedy
    smollm2-135m-instruct@balanced                a decoding preset of apps.playground.decoding
    gemma-3-270m@do_sample=true,temperature=0.7   any GenerationConfig fields
    smollm2-135m-instruct+/path/to/adapter        a peft adapter on its base model
    smollm2-135m-instruct+int8                    the model quantised on load (int8 / int4, apps.quantize)
    api:deepseek/deepseek-chat                    an OpenAI-compatible provider (apps.tasks.providers)
    api:custom/MODEL@http://host:8000/v1          the same, at a given base URL
    tuned:RUN_ID                                  a fine-tuning run's result, for the user who may use it

`parse(spec)` gives a `Contestant`; `for_user(spec, user)` does the same for a signed-in user and
checks that an adapter or `tuned:` run is theirs (or their class's, for a teacher: apps.auth's
may_access); `tuned_choices(user)` lists the fine-tuned results a user may bring into the arena,
under the name they gave them. `stream(...)` yields a contestant's reply so far, token by token.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Iterator

from apps.errors import LabError
from apps.models import registry
from apps.models.generation import GenerationConfig

MODEL, ADAPTER, API, DECODING = "model", "adapter", "api", "decoding"
_CFG_FIELDS = {f.name for f in fields(GenerationConfig)}


def _decoding_presets() -> dict[str, GenerationConfig]:
    from apps.playground.decoding import PRESETS

    return PRESETS


def _value(text: str):
    """'true' → True, '0.7' → 0.7, '40' → 40, else the text."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text.strip()


def parse_decoding(text: str) -> dict:
    """'balanced' or 'temperature=0.7,top_p=0.9' → the GenerationConfig fields that differ."""
    text = text.strip()
    presets = _decoding_presets()
    if text in presets:
        base, default = presets[text].to_dict(), GenerationConfig().to_dict()
        return {k: v for k, v in base.items() if v != default[k]}
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, val = part.partition("=")
        key = key.strip()
        if not sep or key not in _CFG_FIELDS or key in ("stop", "max_new_tokens", "top_logprobs"):
            raise LabError("arena.bad_contestant", spec=text,
                           why=f"'{part}': use a preset ({', '.join(presets)}) or field=value pairs")
        out[key] = _value(val)
    if "temperature" in out or "top_p" in out or "top_k" in out or "min_p" in out:
        out.setdefault("do_sample", True)
    return out


@dataclass(frozen=True)
class Contestant:
    kind: str  # model | adapter | api | decoding
    model: str  # registry name (or the provider's model id for kind api)
    adapter: str | None = None
    provider: str | None = None  # a preset of apps.tasks.providers
    base_url: str | None = None
    decoding: dict = field(default_factory=dict, hash=False, compare=False)
    label: str | None = None

    @property
    def name(self) -> str:
        """The name on the leaderboard: the spec string unless a label was given."""
        if self.label:
            return self.label
        if self.kind == API:  # the base URL is a setting, not part of the model's identity
            return f"api:{self.provider}/{self.model}"
        if self.kind == ADAPTER:  # a run's adapter lives in <run id>/adapter: the run id names it
            folder = Path(self.adapter)
            return f"{self.model}+{folder.parent.name if folder.name == 'adapter' else folder.name}"
        if self.kind == DECODING:
            return f"{self.model}@" + ",".join(f"{k}={v}" for k, v in sorted(self.decoding.items()))
        return self.model

    def settings(self) -> dict:
        """What is stored with each vote (never an API key)."""
        out = {"kind": self.kind, "model": self.model, "name": self.name}
        if self.adapter:
            out["adapter"] = self.adapter
        if self.kind == API:
            out.update(provider=self.provider, base_url=self.base_url)
        out["decoding"] = dict(sorted(self.decoding.items()))
        return out

    def config(self, max_new_tokens: int, seed: int | None = None) -> GenerationConfig:
        cfg = replace(GenerationConfig(max_new_tokens=max_new_tokens, seed=seed, top_logprobs=0), **self.decoding)
        return cfg.validate()

    @property
    def is_local(self) -> bool:
        return self.kind != API

    def load(self, cache=None):
        """The LoadedModel behind a local contestant (adapter applied), from the shared cache."""
        from apps.models import default_cache

        cache = cache or default_cache()
        return cache.get(self.model, adapter=self.adapter) if self.adapter else cache.get(self.model)

    def stream(self, prompt: str, max_new_tokens: int = 128, cancel: threading.Event | None = None,
               cache=None, api_key: str | None = None, seed: int | None = None) -> Iterator[str]:
        """Yield the reply so far after each new token; the last value is the whole reply."""
        if self.kind == API:
            from apps.tasks.providers import ProviderConfig, stream_chat

            cfg = ProviderConfig(self.provider, base_url=self.base_url, model=self.model, api_key=api_key)
            params = {"max_tokens": max_new_tokens, "temperature": self.decoding.get("temperature", 0),
                      "top_p": self.decoding.get("top_p"), "seed": seed}
            for delta in stream_chat(cfg, [{"role": "user", "content": prompt}], **params):
                if cancel is not None and cancel.is_set():
                    return
                yield delta.text
            return
        from apps.models.generation import stream

        lm = self.load(cache)
        for chunk in stream(lm, prompt, self.config(max_new_tokens, seed), cancel=cancel):
            yield chunk.text


def parse(spec: str | dict | Contestant) -> Contestant:
    """A Contestant from its spec string (see the module docstring) or its stored settings dict."""
    if isinstance(spec, Contestant):
        return spec
    if isinstance(spec, dict):
        made = Contestant(kind=spec["kind"], model=spec["model"], adapter=spec.get("adapter"),
                          provider=spec.get("provider"), base_url=spec.get("base_url"),
                          decoding=dict(spec.get("decoding") or {}))
        return replace(made, label=spec["name"]) if spec.get("name") and spec["name"] != made.name else made
    text = (spec or "").strip()
    if not text:
        raise LabError("arena.bad_contestant", spec=text, why="empty")
    if text.startswith("api:"):
        head, _, base_url = text[4:].partition("@")  # api:PRESET/MODEL[@BASE_URL]
        provider, _, model = head.partition("/")
        from apps.tasks.providers import PRESETS

        if provider not in PRESETS:
            raise LabError("arena.bad_contestant", spec=text, why=f"provider must be one of {', '.join(PRESETS)}")
        return Contestant(kind=API, model=model or PRESETS[provider].model, provider=provider,
                          base_url=base_url.strip() or None)
    if "+" in text and registry.split_quant(text.partition("@")[0].strip())[1] is None:  # "m+int8" is a model
        base, _, adapter = text.partition("+")
        if not (Path(adapter) / "adapter_config.json").is_file():
            raise LabError("arena.bad_contestant", spec=text, why=f"no peft adapter (adapter_config.json) in {adapter}")
        _check_model(base.strip(), text)
        return Contestant(kind=ADAPTER, model=base.strip(), adapter=str(Path(adapter).resolve()))
    base, sep, decoding = text.partition("@")
    _check_model(base.strip(), text)
    if sep:
        # a preset keeps its short name on the leaderboard ("m@creative"), its fields in settings
        label = text if decoding.strip() in _decoding_presets() else None
        return Contestant(kind=DECODING, model=base.strip(), decoding=parse_decoding(decoding), label=label)
    return Contestant(kind=MODEL, model=base.strip())


def _check_model(name: str, spec: str) -> None:
    model_spec = registry.resolve(registry.split_quant(name)[0])  # raises models.unknown with the choices
    if model_spec.kind == registry.EMBEDDING:
        raise LabError("arena.bad_contestant", spec=spec, why="an embedding model cannot answer prompts")


def finished_adapters() -> list[tuple[str, str]]:
    """(base model, adapter folder) of finished LoRA runs of the fine-tuning stage, newest first."""
    try:
        from apps.finetune.runs import list_adapters

        return [(a["base_model"], a["adapter_path"]) for a in list_adapters()]
    except (ImportError, OSError, LabError):  # no fine-tuning stage, or no runs folder yet
        return []


TUNED = "tuned:"


def _tuned(info: dict) -> Contestant | None:
    """The contestant of a finished run (its adapter on the base, else its full or merged model),
    named base+label#xxxx: the label the user typed, and the run id's random tail so that two
    students' "poet" stay apart and no run can pass for a registry model."""
    if info["state"] != "finished":
        return None
    run_id, base, label = info["run_id"], info["model"], info["label"]
    name = f"{base}+{run_id}" if label == run_id else f"{base}+{label}#{run_id[-4:]}"
    if info["adapter_path"]:
        return Contestant(kind=ADAPTER, model=base, adapter=info["adapter_path"], label=name)
    path = info["model_path"] or info["merged_path"]
    return Contestant(kind=MODEL, model=path, label=name) if path else None


def tuned_choices(user, root: Path | None = None) -> list[tuple[str, str, str]]:
    """(label the user typed, base model, spec 'tuned:<run id>') of each finished fine-tuning run
    `user` may use (their own; a teacher's include the class's), newest first. `root`: the runs
    folder (the app's, as its fine-tuning runner has it; default $LLMLAB_RUNS)."""
    try:
        from apps.finetune.runs import list_runs

        infos = list_runs(root, user=user)
    except (ImportError, OSError, LabError):
        return []
    return [(i["label"], i["model"], TUNED + i["run_id"]) for i in infos if _tuned(i) is not None]


def resolve_tuned(spec: str, user, root: Path | None = None) -> Contestant:
    """'tuned:<run id>' → its Contestant; a run that is missing, unfinished or not `user`'s is
    refused as if it did not exist (finetune.no_run). user None: the trusted local caller."""
    from apps.finetune.runs import get_run

    run_id = spec.strip()[len(TUNED):].strip()
    made = _tuned(get_run(run_id, root, user=user))
    if made is None:
        raise LabError("finetune.no_run", run_id=run_id)
    return made


def for_user(spec, user, root: Path | None = None) -> Contestant:
    """parse(spec) for a signed-in user: a `tuned:` run or an adapter folder inside the runs root
    must be one `user` may reach (apps.finetune.runs' ownership). user None: parse(spec)."""
    if isinstance(spec, str) and spec.strip().startswith(TUNED):
        return resolve_tuned(spec, user, root)
    made = parse(spec)
    if user is not None and made.kind == ADAPTER:
        from apps.finetune.runs import get_run, runs_root

        folder = Path(made.adapter)
        run = folder.parent if folder.name == "adapter" else folder
        root = root or runs_root()
        if run.parent == Path(root).resolve():
            get_run(run.name, root, user=user)  # finetune.no_run unless theirs (or their class's)
    return made


def default_pool(offline_only: bool = True, adapters: bool = True) -> list[str]:
    """Spec strings a fresh arena offers: generative registry models, two decoding settings each
    on the chat model, and (adapters=True, one user's machine) every finished adapter."""
    specs = []
    for spec in registry.list_models():
        if spec.kind == registry.EMBEDDING or (offline_only and not spec.offline):
            continue
        specs.append(spec.name)
        if spec.kind == registry.CHAT:
            specs += [f"{spec.name}@balanced", f"{spec.name}@creative"]
    if adapters:
        specs += [f"{base}+{path}" for base, path in finished_adapters()]
    return specs




