"""Which quantisation methods exist, what each needs, and turning a loaded model into a quantised one.

    from apps.quantize.methods import quantize_loaded
    q = quantize_loaded(default_cache().get("smollm2-135m-instruct"), "int8")   # a new LoadedModel

int8 / int4: weight-only, our own torch layers (apps.quantize.qlinear), any device.
bf16: the whole model cast to bfloat16 (half the bytes; the "FP16/BF16" step of the chapter).
nf4: bitsandbytes 4-bit NormalFloat (QLoRA's format); its kernels exist only for CUDA GPUs.
Cheap checks (the method, the model's kind, the hardware) run before any weight is touched.
"""
from __future__ import annotations

import copy
import time
from dataclasses import replace

import torch

from apps.errors import LabError
from apps.models.loading import LoadedModel
from apps.models.registry import EMBEDDING, QUANT_METHODS
from apps.quantize.qlinear import quantize_model, tensor_bytes

METHODS = QUANT_METHODS  # int8, int4, nf4, bf16
DEFAULT_GROUP = 32


def check(method: str, kind: str | None = None, name: str = "") -> None:
    """Refuse what cannot work, before loading anything: an unknown method, a model that does not
    generate (embedding models have no LM head to measure perplexity or speed with), NF4 without CUDA."""
    if method not in METHODS:
        raise LabError("quantize.bad_method", method=method, choices=", ".join(METHODS))
    if kind == EMBEDDING:
        raise LabError("quantize.embedding_model", name=name)
    if method == "nf4":
        if not torch.cuda.is_available():
            raise LabError("quantize.needs_cuda", method=method)
        try:
            import bitsandbytes  # noqa: F401
        except ImportError as exc:
            raise LabError("quantize.missing_package", package="bitsandbytes", method=method) from exc


def _nf4(lm: LoadedModel) -> torch.nn.Module:
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    config = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16,
                                bnb_4bit_use_double_quant=True)
    return AutoModelForCausalLM.from_pretrained(lm.path, quantization_config=config, device_map={"": lm.device})


def quantize_loaded(lm: LoadedModel, method: str, group_size: int = DEFAULT_GROUP) -> LoadedModel:
    """A new LoadedModel named "<model>+<method>"; `lm` (often the cache's shared copy) is untouched."""
    check(method, lm.kind, lm.name)
    started = time.perf_counter()
    if method in ("int8", "int4"):
        model = quantize_model(lm.model, method, group_size)
    elif method == "bf16":
        model = copy.deepcopy(lm.model).to(torch.bfloat16).eval()
    else:
        model = _nf4(lm).eval()
    dtype = torch.bfloat16 if method == "bf16" else lm.dtype
    return LoadedModel(spec=replace(lm.spec, name=f"{lm.spec.name}+{method}"), model=model, tokenizer=lm.tokenizer,
                       device=lm.device, dtype=dtype, path=lm.path, kind=lm.kind, variant=lm.variant,
                       load_seconds=time.perf_counter() - started, nbytes=tensor_bytes(model))
