"""Your first AI app: export choices made in the lab as a standalone folder that runs on its own.

    from apps.deploy.export import ExportConfig, export
    export(ExportConfig(model="smollm2-135m-instruct", index="runs/rag-demo", system="Be brief.", output="my-app"))
    # my-app/: app.py  app_config.json  requirements.txt  README.md (Space header)  .gitattributes
    #          model/  [adapter/]  [index/ embedder/]
    cd my-app && python app.py                 # offline when its model is copied in (the default)

The model is a registry name, a lab-trained folder, "base+adapter:folder" (the adapter is copied
beside its base), a hub id, or a GGUF (a ".gguf" file or "name@llama.cpp": the app then runs it with
llama-cpp-python). `weights="hub"` writes the upstream hub id instead of copying weights (a small
folder for a Space that downloads at start). app.py is apps/deploy/template/app.py, unchanged: the
choices live in app_config.json. requirements.txt pins the versions installed here, so the app
installs what it was tested with. Large files are hard-linked when the folder is on the same disk.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from apps.errors import LabError

TEMPLATE = Path(__file__).resolve().parent / "template" / "app.py"
BASE_REQUIREMENTS = ("gradio", "torch", "transformers", "safetensors", "accelerate")
RAG_REQUIREMENTS = ("faiss-cpu", "sentence-transformers", "numpy")
LLAMA_CPP_PIN = "llama-cpp-python==0.3.36"  # what `make llama` installs, when this machine has none to pin
LFS_PATTERNS = ("*.safetensors", "*.bin", "*.gguf", "*.faiss", "*.npy", "*.pt")


@dataclass
class ExportConfig:
    model: str
    output: str
    index: str | None = None  # a RAG index folder (rag.store layout)
    system: str = ""
    title: str = "My first AI app"
    max_tokens: int = 256
    temperature: float = 0.0
    weights: str = "copy"  # copy | hub
    k: int = 4  # sources retrieved per question

    def validate(self) -> "ExportConfig":
        if not 1 <= int(self.max_tokens) <= 4096:
            raise LabError("gen.bad_param", name="max_tokens", why="1..4096")
        if not 0 <= float(self.temperature) <= 2:
            raise LabError("gen.bad_param", name="temperature", why="0..2")
        if self.weights not in ("copy", "hub"):
            raise LabError("gen.bad_param", name="weights", why="copy | hub")
        return self


def _put(src: Path, dst: Path) -> None:
    """Copy a file or folder (hard links for files when possible: same bytes, no extra disk)."""
    if src.is_dir():
        dst.mkdir(parents=True, exist_ok=True)
        for item in src.iterdir():
            if not item.name.startswith("."):
                _put(item, dst / item.name)
        return
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _pins(names) -> list[str]:
    """name==version as installed here, without a local label ("2.13.0+cpu" → "2.13.0"): PyPI has no
    local versions, and under PEP 440 "==2.13.0" still matches the "+cpu" build where one is found."""
    lines = []
    for name in names:
        try:
            lines.append(f"{name}=={metadata.version(name).split('+')[0]}")
        except metadata.PackageNotFoundError:
            lines.append(LLAMA_CPP_PIN if name == "llama-cpp-python" else name)
    return lines


def _spec(base: str, vetted: bool):
    """The model's spec. `vetted`: a folder the caller already checked (a run the signed-in user owns,
    apps.deploy.bundle), taken as it is rather than through the shared server's name policy."""
    from apps.models import registry

    folder = Path(base)
    if vetted and base not in registry.REGISTRY and (folder / "config.json").is_file():
        return registry.ModelSpec(name=base, kind=registry._kind_of_folder(folder), source="local", folder=base)
    return registry.resolve(base)


def _model_files(cfg: ExportConfig, out: Path, vetted: bool = False) -> dict:
    """Put the model (and adapter) into `out`; return the app_config entries and extra requirements."""
    from apps.models import llamacpp, loading, registry
    from apps.security import model_policy

    base, adapter = registry.split_ref(cfg.model)
    base, quant = registry.split_quant(base)
    if quant:
        raise LabError("deploy.no_quant", method=quant)
    spec = _spec(base, vetted)
    if spec.kind == registry.EMBEDDING:
        raise LabError("models.not_generative", name=base)
    if spec.source == llamacpp.SOURCE:
        path = llamacpp.file_of(spec)
        llamacpp.read_header(path)  # a corrupt file is refused here, not in the app
        _put(path, out / "model.gguf")
        return {"model": "model.gguf", "engine": "llama.cpp", "extra": ["llama-cpp-python"]}
    entry = {"engine": "transformers", "extra": ["peft"] if adapter else []}
    if cfg.weights == "hub" and spec.hub_id and not adapter:
        entry["model"] = spec.hub_id
    else:
        folder = Path(loading.model_dir(spec))  # a GGUF registry model: its converted safetensors folder
        if not folder.is_dir():
            from huggingface_hub import snapshot_download

            folder = Path(snapshot_download(spec.hub_id, local_files_only=not loading.hub_reachable()))
        _put(folder, out / "model")
        entry["model"] = "model"
    if adapter:
        if not vetted:
            model_policy.check_adapter(adapter)
        if not (Path(adapter) / "adapter_config.json").exists():
            raise LabError("deploy.bad_adapter", path=adapter)
        _put(Path(adapter), out / "adapter")
        entry["adapter"] = "adapter"
    return entry


def _index_files(folder: str, out: Path) -> dict:
    from apps.models import loading, registry
    from rag.answer import INSTRUCTIONS, LABELS

    src = Path(folder).expanduser()
    meta_path = src / "meta.json"
    if not meta_path.exists() or not (src / "index.faiss").exists():
        raise LabError("deploy.bad_index", path=folder)
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    (out / "index").mkdir()
    for name in ("meta.json", "chunks.jsonl", "index.faiss"):
        _put(src / name, out / "index" / name)
    embedder = registry.resolve(meta["config"]["embedder"])
    _put(Path(loading.model_dir(embedder)), out / "embedder")
    return {"index": "index", "embedder": "embedder", "rag_instructions": INSTRUCTIONS,
            "rag_labels": {k: list(v) for k, v in LABELS.items()}}


def _gradio_version() -> str:
    try:
        return metadata.version("gradio")
    except metadata.PackageNotFoundError:
        return "6.0.0"


README = """---
title: {title}
emoji: ⚙
colorFrom: indigo
colorTo: green
sdk: gradio
sdk_version: {gradio}
app_file: app.py
pinned: false
---

# {title}

Exported from LLM 0→1 Lab (`llmlab deploy export`). 从大模型 0→1 实验室导出。

- model / 模型: `{model}` ({engine}){adapter}
- answers from your documents / 基于文档回答: {rag}
- system prompt / 系统提示词: {system}

## Run it / 运行

```bash
python -m venv .venv
.venv/bin/pip install -r requirements.txt
.venv/bin/python app.py          # http://127.0.0.1:7860
```

## Put it on a Hugging Face Space / 发布到 Hugging Face Space

Create a Space with the Gradio SDK, then push this folder (large files go through Git LFS, see
.gitattributes). 新建一个 Gradio 类型的 Space，把本文件夹推送上去（大文件经 Git LFS，见 .gitattributes）。
"""


def export(cfg: ExportConfig, vetted: bool = False) -> dict:
    """Write the app folder. Checks everything cheap first; a half-written folder is removed.
    `vetted`: the model, adapter and index were resolved by the ownership layer (apps.deploy.bundle)."""
    cfg.validate()
    out = Path(cfg.output).expanduser()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise LabError("deploy.output_not_empty", path=str(out))
    out.mkdir(parents=True, exist_ok=True)
    try:
        entry = _model_files(cfg, out, vetted)
        extra = entry.pop("extra")
        config = {"title": cfg.title, "system": cfg.system, "max_tokens": int(cfg.max_tokens),
                  "temperature": float(cfg.temperature), "k": int(cfg.k), "source_model": cfg.model, **entry}
        if cfg.index:
            config.update(_index_files(cfg.index, out))
        shutil.copy2(TEMPLATE, out / "app.py")
        (out / "app_config.json").write_text(json.dumps(config, ensure_ascii=False, indent=2), encoding="utf-8")
        names = list(BASE_REQUIREMENTS if entry["engine"] == "transformers" else ("gradio",)) + extra
        names += list(RAG_REQUIREMENTS) if cfg.index else []
        (out / "requirements.txt").write_text("\n".join(_pins(names)) + "\n", encoding="utf-8")
        (out / ".gitattributes").write_text("".join(f"{p} filter=lfs diff=lfs merge=lfs -text\n" for p in LFS_PATTERNS))
        (out / "README.md").write_text(README.format(
            title=cfg.title.replace("\n", " "), gradio=_gradio_version(), model=cfg.model, engine=entry["engine"],
            adapter=" + LoRA adapter" if entry.get("adapter") else "", rag="yes / 是" if cfg.index else "no / 否",
            system=cfg.system or "—"), encoding="utf-8")
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    size = sum((out / f).stat().st_size for f in files)
    return {"output": str(out), "files": files, "size_mb": round(size / (1 << 20), 1),
            "requirements": (out / "requirements.txt").read_text().split(), "config": config,
            "run": f"cd {out} && python app.py"}
