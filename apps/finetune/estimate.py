"""Memory needed to train before starting: weights, adapters, gradients, optimizer, activations.

    est = estimate(RunConfig(model="smollm2-135m-instruct", method="lora"), device="cpu")
    est["parts_mb"]  # {"weights": 513, "adapters": 19, "gradients": 19, "optimizer": 38, "activations": 640}
    est["total_mb"], est["available_mb"], est["fits"], est["warning"]

Parameter counts come from the model's config built on the "meta" device (shapes only, no weights
read). The formulas are the textbook ones (bytes per parameter: fp32 4, bf16 2, NF4 ~0.5 + block
scales); activations follow Korthikanti et al. 2022 (per layer ~34·s·b·h bytes at 16 bit, plus
5·a·s²·b for attention scores) and add the logits (b·s·vocab, kept in fp32 for the loss). It is an
estimate: real peaks add the framework's own overhead (the CPU figures include ~0.5 GB of Python and
torch), which `overhead_mb` accounts for roughly.
"""
from __future__ import annotations

from functools import lru_cache

from apps.errors import LabError
from apps.finetune.config import RunConfig, resolve_defaults

MB = 2**20


@lru_cache(maxsize=16)
def param_counts(path: str, lora_r: int, targets: str) -> dict:
    """{"total", "lora", "hidden", "layers", "heads", "vocab"} for a model folder or hub id."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(path)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    total = sum(p.numel() for p in model.parameters())
    wanted = None if targets == "all-linear" else {t.strip() for t in targets.split(",") if t.strip()}
    lora = linear = 0
    names = set()
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and "lm_head" not in name:
            names.add(name.rsplit(".", 1)[-1])
            linear += module.weight.numel()  # what bitsandbytes quantises (not embeddings, norms, lm_head)
            if wanted is None or name.rsplit(".", 1)[-1] in wanted:
                lora += lora_r * (module.in_features + module.out_features)  # A: r×in, B: out×r
    text = getattr(config, "text_config", config)
    return {"total": total, "linear": linear, "lora": lora, "hidden": text.hidden_size,
            "layers": text.num_hidden_layers, "heads": text.num_attention_heads, "vocab": text.vocab_size,
            "linear_names": sorted(names)}


def device_memory_mb(device: str) -> tuple[float, str]:
    """(memory a run can use in MB, what it is) — free GPU memory, or available RAM."""
    if device.startswith("cuda"):
        import torch

        free, _total = torch.cuda.mem_get_info()
        return free / MB, torch.cuda.get_device_name()
    import psutil

    return psutil.virtual_memory().available / MB, "RAM"


def estimate(cfg: RunConfig, device: str | None = None) -> dict:
    from apps.models.loading import model_dir, pick_device
    from apps.models.registry import resolve

    device = pick_device(device or cfg.device)
    cfg, _ = resolve_defaults(cfg, device)
    try:
        counts = param_counts(model_dir(resolve(cfg.model)), cfg.lora_r, cfg.target_modules)
    except LabError:
        raise
    except Exception as exc:  # noqa: BLE001 - offline hub id, odd config…
        raise LabError("finetune.estimate_failed", model=cfg.model, reason=str(exc).splitlines()[0][:200]) from exc
    n, cuda = counts["total"], device.startswith("cuda")
    half = bool(cfg.bf16)
    if cfg.method == "qlora":
        # bitsandbytes quantises only the Linear layers (NF4: 4 bits + a double-quantised absmax per
        # 64 weights); embeddings, norms and a tied lm_head stay in the 16-bit compute dtype.
        weights = counts["linear"] * (0.5 + 0.5 / 64 * 2) + (n - counts["linear"]) * 2
    else:
        weights = n * (2 if half and cfg.method == "lora" else 4)
    adapters = counts["lora"] if cfg.method != "full" else 0
    trainable = adapters or n
    parts = {
        "weights": weights,
        "adapters": adapters * 4,  # peft keeps adapters in fp32
        "gradients": trainable * 4,
        "optimizer": trainable * 8,  # AdamW: two fp32 moments per trainable parameter
    }
    # DPO runs chosen and rejected together (2x batch) and, for full tuning, keeps a frozen reference copy.
    pairs = 2 if cfg.objective == "dpo" else 1
    if cfg.objective == "dpo" and cfg.method == "full":
        parts["reference"] = n * (2 if half else 4)
    b, s, h, layers, a = cfg.batch_size * pairs, cfg.max_length, counts["hidden"], counts["layers"], counts["heads"]
    act_scale = 1 if half else 2  # the formula counts 16-bit values; fp32 doubles it
    per_layer = b * s * h * 34 * act_scale / 2 + 5 * a * s * s * b * act_scale / 2
    if cfg.gradient_checkpointing:  # only each layer's input is kept, one layer is recomputed at a time
        acts = layers * b * s * h * (2 if half else 4) + per_layer
    else:
        acts = layers * per_layer
    parts["activations"] = acts + b * s * counts["vocab"] * 4 * 2  # logits + their gradient, fp32
    overhead = 300 * MB if cuda else 800 * MB  # CUDA context / Python, torch, transformers, trl libraries
    total = sum(parts.values()) + overhead
    available, what = device_memory_mb(device)
    fits = total / MB <= available * 0.9  # keep 10% for the allocator's fragmentation
    return {
        "model": cfg.model, "method": cfg.method, "objective": cfg.objective, "device": device, "memory_of": what,
        "params": n, "trainable_params": trainable, "trainable_pct": 100 * trainable / n,
        "parts_mb": {k: round(v / MB, 1) for k, v in parts.items()}, "overhead_mb": round(overhead / MB),
        "total_mb": round(total / MB, 1), "available_mb": round(available, 1), "fits": fits,
        "warning": None if fits else "finetune.est.oom", "config": cfg,
        # explained, never silently switched: the run itself refuses with the same message
        "blocker": "finetune.qlora_needs_cuda" if cfg.method == "qlora" and not cuda else None,
    }
