"""Memory needed to train before starting: weights, adapters, gradients, optimizer, activations.

    est = estimate(RunConfig(model="smollm2-135m-instruct", method="lora"), device="cpu")
    est["parts_mb"]  # {"weights": 513, "adapters": 19, "gradients": 19, "optimizer": 38, "activations": 640}
    est["total_mb"], est["available_mb"], est["fits"], est["warning"]

Parameter counts come from the model's config built on the "meta" device (shapes only, no weights
read). The formulas are the textbook ones (bytes per parameter: fp32 4, bf16 2, NF4 ~0.5 + block
scales; bitsandbytes quantises Linear layers only); activations count the tensors a decoder layer
keeps for backward (`activation_bytes`), for the run's longest example (the trainer pads a batch to
its longest, so a 256-token max_length over 85-token examples costs 85). Real peaks add the
framework's own overhead (~0.7 GB of Python, torch, transformers and trl on CPU): `overhead_mb`.
tests/integration/test_finetune_memory.py trains out of process and holds the total to ±30% of the
measured peak RSS.
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
    lora = linear = outs = lora_ins = 0
    names = set()
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and "lm_head" not in name:
            names.add(name.rsplit(".", 1)[-1])
            linear += module.weight.numel()  # what bitsandbytes quantises (not embeddings, norms, lm_head)
            outs += module.out_features
            if wanted is None or name.rsplit(".", 1)[-1] in wanted:
                lora += lora_r * (module.in_features + module.out_features)  # A: r×in, B: out×r
                lora_ins += module.in_features
    text = getattr(config, "text_config", config)
    layers = text.num_hidden_layers
    return {"total": total, "linear": linear, "lora": lora, "hidden": text.hidden_size, "layers": layers,
            "heads": text.num_attention_heads, "vocab": text.vocab_size, "linear_names": sorted(names),
            # per layer and token: values the Linear layers output, and inputs the adapters see
            "linear_out": outs // layers, "lora_in": lora_ins // layers,
            "intermediate": getattr(text, "intermediate_size", 4 * text.hidden_size)}


def longest_example(cfg: RunConfig, path: str) -> int | None:
    """Tokens in the run's longest example as the trainer encodes it (a batch is padded to its
    longest, so this, not max_length, sizes the activations), or None when the data cannot be read."""
    from transformers import AutoTokenizer

    from apps.finetune import data, template

    try:
        dataset = data.load(cfg.data, cfg.objective)
        tokenizer = template.for_training(AutoTokenizer.from_pretrained(path))
    except Exception:  # noqa: BLE001 - bad data is reported by validate/preview, not by the estimate
        return None
    chats = dataset.sft + [p["prompt"] + p["rejected"] for p in dataset.pairs]
    return max(len(data.encode_chat(tokenizer, m, 1 << 30)["input_ids"]) for m in chats)


def activation_bytes(counts: dict, cfg: RunConfig, batch: int, seq: int, half: bool) -> float:
    """What the backward pass keeps, counted tensor by tensor for a pre-norm decoder layer, per token:
    every Linear output (q, k, v, o, gate, up, down), two norm outputs and two residuals (4·h), the
    MLP activation and product (2·intermediate); LoRA adds each adapter's dropped-out input and its
    mask. Plus one attention-score tensor per layer (batch·heads·seq², the math path of sdpa) and
    the logits in fp32 four times over (logits, log-softmax, and the gradient of each)."""
    width = 2 if half else 4
    h, layers = counts["hidden"], counts["layers"]
    per_token = counts["linear_out"] + 4 * h + 2 * counts["intermediate"]
    if cfg.method != "full":
        per_token += counts["lora_in"] * (1.25 if cfg.lora_dropout else 0)  # dropout output + bool mask
    tokens = batch * seq
    per_layer = tokens * per_token * width + batch * counts["heads"] * seq * seq * width
    if cfg.gradient_checkpointing:  # only each layer's input is kept; one layer is recomputed at a time
        acts = layers * tokens * h * width + per_layer
    else:
        acts = layers * per_layer
    return acts + tokens * counts["vocab"] * 4 * 4


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
        path = model_dir(resolve(cfg.model))
        counts = param_counts(path, cfg.lora_r, cfg.target_modules)
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
    # DPO and reward models run chosen and rejected together (2x batch); full DPO keeps a frozen reference copy.
    pairs = 2 if cfg.objective in ("dpo", "reward") else 1
    if cfg.objective == "dpo" and cfg.method == "full":
        parts["reference"] = n * (2 if half else 4)
    longest = longest_example(cfg, path)
    seq = min(cfg.max_length, longest) if longest else cfg.max_length
    parts["activations"] = activation_bytes(counts, cfg, cfg.batch_size * pairs, seq, half)
    overhead = (300 if cuda else 700) * MB  # CUDA context / Python, torch, transformers, trl, datasets
    total = sum(parts.values()) + overhead
    available, what = device_memory_mb(device)
    fits = total / MB <= available * 0.9  # keep 10% for the allocator's fragmentation
    return {
        "model": cfg.model, "method": cfg.method, "objective": cfg.objective, "device": device, "memory_of": what,
        "params": n, "trainable_params": trainable, "trainable_pct": 100 * trainable / n,
        "parts_mb": {k: round(v / MB, 1) for k, v in parts.items()}, "overhead_mb": round(overhead / MB),
        "total_mb": round(total / MB, 1), "available_mb": round(available, 1), "fits": fits, "seq_len": seq,
        "warning": None if fits else "finetune.est.oom", "config": cfg,
        # explained, never silently switched: the run itself refuses with the same message
        "blocker": "finetune.qlora_needs_cuda" if cfg.method == "qlora" and not cuda else None,
    }
