"""How much memory a model will take, estimated BEFORE loading it, so the cache's budget is checked
before a download or a load can exhaust the machine.

The estimate counts parameters without reading weights: the headers of safetensors files (8-byte
length + JSON of shapes), the tensor table of a GGUF file, or, for a hub id on an online machine,
the hub's safetensors metadata. Bytes = parameters × the element size of the dtype the model will
be loaded in (fp32 on CPU), which is what `LoadedModel.nbytes` measures after loading.

    estimate_bytes(registry.resolve("smollm2-135m-instruct"), torch.float32)  # ≈ 538 MB
"""
from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import torch

from apps.models.registry import ModelSpec


def _safetensors_params(path: Path) -> int:
    with open(path, "rb") as handle:
        (length,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(length))
    return sum(math.prod(info["shape"]) for name, info in header.items() if name != "__metadata__")


def folder_params(folder: Path) -> int | None:
    """Parameters stored in a model folder's safetensors (or, roughly, fp32 .bin) files."""
    files = sorted(folder.glob("*.safetensors")) or sorted(folder.rglob("*.safetensors"))
    if files:
        return sum(_safetensors_params(f) for f in files)
    bins = sorted(folder.glob("*.bin"))
    return sum(f.stat().st_size for f in bins) // 4 if bins else None


def gguf_params(path: Path) -> int | None:
    from gguf import GGUFReader

    return sum(int(t.n_elements) for t in GGUFReader(str(path)).tensors)


def hub_params(hub_id: str) -> int | None:
    from huggingface_hub import get_safetensors_metadata

    from apps.models.loading import hub_reachable

    if not hub_reachable():
        return None  # the load will look in the local hub cache only, and say so if it misses
    meta = get_safetensors_metadata(hub_id)
    return sum(meta.parameter_count.values())


def param_count(spec: ModelSpec) -> int | None:
    from apps.models import registry
    from apps.storage import lab_home

    if spec.source == "gguf":
        converted = lab_home() / "models" / spec.name
        if (converted / "config.json").exists():
            return folder_params(converted)
        source = registry.package_dir(spec.gguf_package) / spec.gguf_file if spec.gguf_package else \
            lab_home() / "gguf" / spec.gguf_file
        return gguf_params(source) if source.exists() else None
    if spec.source == "package-folder":
        return folder_params(registry.package_dir(spec.folder_package) / "model")
    if spec.source == "local":
        return folder_params(Path(spec.folder))
    return hub_params(spec.hub_id) if spec.hub_id else None


def estimate_bytes(spec: ModelSpec, dtype: torch.dtype) -> int | None:
    """Bytes the parameters will take in `dtype`; None when nothing can be learnt without loading."""
    try:
        n = param_count(spec)
    except Exception:  # noqa: BLE001 - an estimate that fails falls back to the check after loading
        return None
    return None if n is None else n * torch.empty((), dtype=dtype).element_size()
