"""What is inside the shipped GGUF files: each tensor's storage type, read with the `gguf` package.

    from apps.quantize.gguf_types import summary
    summary("smollm2-135m-instruct")   # {"file", "file_type", "types": [{"type": "Q4_1", "tensors": 210, ...}], ...}

llama.cpp stores weights in blocks: Q4_0 / Q4_1 / Q8_0 keep one scale (and for Q4_1 a minimum) per
32 weights; the K-quants (Q4_K, Q5_K, Q6_K) group 256 weights into a super-block of 8 or 16 sub-blocks
whose scales are themselves quantised. "Q4_K_M" names a *mix*: most tensors Q4_K, some sensitive ones
(attention V, FFN down) Q6_K. The explanations live in apps/i18n/quantize.py as "quantize.gguf.<TYPE>".
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from apps.errors import LabError
from apps.models import registry

EXPLAINED = ("F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K")


def gguf_file(name: str) -> Path:
    """The GGUF behind a registry model (assembled from its part packages once, into the lab cache)."""
    from apps.models.loading import gguf_path

    spec = registry.resolve(registry.split_quant(name)[0])
    if spec.source != "gguf":
        raise LabError("quantize.not_gguf", name=spec.name)
    return gguf_path(spec)


def summary(name_or_path: str) -> dict:
    """Tensor types of one GGUF: per type the tensor count, weights, bytes and bits per weight;
    per tensor its name, type and shape. `name_or_path`: a registry model or a .gguf file."""
    from gguf import GGUFReader

    path = Path(name_or_path)
    if not (path.suffix == ".gguf" and path.is_file()):
        path = gguf_file(name_or_path)
    reader = GGUFReader(path)
    per_type: dict[str, dict] = defaultdict(lambda: {"tensors": 0, "weights": 0, "bytes": 0, "examples": []})
    tensors = []
    for t in reader.tensors:
        kind = t.tensor_type.name
        row = per_type[kind]
        row["tensors"] += 1
        row["weights"] += int(t.n_elements)
        row["bytes"] += int(t.n_bytes)
        if len(row["examples"]) < 3:
            row["examples"].append(t.name)
        tensors.append({"name": t.name, "type": kind, "shape": [int(x) for x in t.shape], "bytes": int(t.n_bytes)})
    types = [{"type": k, **v, "bits_per_weight": round(8 * v["bytes"] / max(1, v["weights"]), 3),
              "explained": k in EXPLAINED} for k, v in sorted(per_type.items(), key=lambda kv: -kv[1]["bytes"])]
    weights = sum(r["weights"] for r in types)
    size = sum(r["bytes"] for r in types)
    file_type = reader.fields.get("general.file_type")
    return {
        "file": path.name, "file_mb": round(path.stat().st_size / 2**20, 1), "tensor_count": len(tensors),
        "file_type": int(file_type.contents()) if file_type is not None else None,
        "weights": weights, "bits_per_weight": round(8 * size / max(1, weights), 3),
        "fp32_mb": round(4 * weights / 2**20, 1), "types": types, "tensors": tensors,
    }


def shipped() -> list[str]:
    """Registry models that come as GGUF files."""
    return [s.name for s in registry.list_models(offline_only=True) if s.source == "gguf"]
