"""A quantised model as a folder: save it once, load it anywhere in the lab by its path.

    from apps.quantize.store import save_folder
    save_folder(qlm, "runs/quantized/smollm-int4", method="int4", group_size=32)
    default_cache().get("runs/quantized/smollm-int4")      # Playground, Arena, `llmlab generate --model DIR`

The folder holds config.json, the tokenizer, `model.safetensors` (int8 / packed int4 codes and their
scales for our QuantLinear layers; bf16 and nf4 use transformers' own format) and
`llmlab_quantization.json`, which tells apps.models.loading to come here instead of `from_pretrained`.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import torch

from apps.errors import LabError
from apps.models.loading import QUANT_CONFIG, LoadedModel, pick_device
from apps.models.registry import ModelSpec
from apps.quantize.qlinear import METHODS_BITS, QuantLinear, _targets, tensor_bytes

WEIGHTS = "model.safetensors"


def _strip_gguf(model) -> None:
    # A GGUF-born model carries a quantizer that blocks save_pretrained (see apps.models.loading).
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config") and not getattr(model, "is_loaded_in_4bit", False):
        del model.config.quantization_config


def save_folder(lm: LoadedModel, out_dir: str | Path, method: str, group_size: int = 32) -> Path:
    """Write a quantised LoadedModel to `out_dir` (created; an existing non-empty folder is refused,
    so nothing a user made is overwritten). Returns the folder."""
    out = Path(out_dir).expanduser().resolve()
    if out.exists() and any(out.iterdir()):
        raise LabError("quantize.output_exists", path=str(out))
    out.mkdir(parents=True, exist_ok=True)
    model = lm.model
    if method in METHODS_BITS:
        from safetensors.torch import save_model

        model.config.save_pretrained(out)
        if getattr(model, "generation_config", None) is not None:
            model.generation_config.save_pretrained(out)
        save_model(model, str(out / WEIGHTS))  # drops the tied copy of the embedding
    else:
        _strip_gguf(model)
        model.save_pretrained(out, safe_serialization=True)
    lm.tokenizer.save_pretrained(out)
    layers = sorted(n for n, m in model.named_modules() if isinstance(m, QuantLinear))
    meta = {"method": method, "group_size": group_size, "base": lm.spec.name.rsplit("+", 1)[0],
            "quantized_layers": layers, "made_by": "llmlab quantize"}
    (out / QUANT_CONFIG).write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return out


def folder_bytes(folder: str | Path) -> int:
    """Bytes of the weight files in a model folder (what 'size on disk' means for a model)."""
    return sum(p.stat().st_size for p in Path(folder).glob("*.safetensors"))


def load_folder(spec: ModelSpec, device: str | None = None) -> LoadedModel:
    """Load a folder written by save_folder (spec.source == "local")."""
    from safetensors.torch import load_model
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    folder = Path(spec.folder)
    meta = json.loads((folder / QUANT_CONFIG).read_text(encoding="utf-8"))
    method = meta.get("method")
    device = pick_device(device)
    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    if method in METHODS_BITS:
        config = AutoConfig.from_pretrained(folder)
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        for name, linear in _targets(model).items():
            if name in meta["quantized_layers"]:
                parent_name, _, child = name.rpartition(".")
                parent = model.get_submodule(parent_name) if parent_name else model
                shell = QuantLinear.empty(linear, METHODS_BITS[method], meta["group_size"])
                setattr(parent, child, shell)  # right shapes and dtypes; the values come next
        load_model(model, str(folder / WEIGHTS), strict=True)
        model.tie_weights()
        dtype = torch.float32
    elif method in ("bf16", "nf4"):
        dtype = torch.bfloat16
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype, **({"device_map": {"": device}} if method == "nf4" else {}))
    else:
        raise LabError("quantize.bad_method", method=str(method), choices=", ".join(METHODS_BITS))
    if method != "nf4":
        model.to(device)
    model.eval().requires_grad_(False)
    return LoadedModel(spec=spec, model=model, tokenizer=tokenizer, device=device, dtype=dtype, path=str(folder),
                       kind=spec.kind, load_seconds=time.perf_counter() - started, nbytes=tensor_bytes(model))
