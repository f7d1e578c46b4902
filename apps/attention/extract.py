"""Running a model once on a text and keeping everything the Attention tab shows.

`extract(lm, text)` returns an `AttentionRun`: the tokens, every layer's attention weights as the
model reports them (`output_attentions`, so the model must be loaded with attn="eager"), and the
hidden states entering each attention block (caught with forward pre-hooks), which the
from-scratch recomputation starts from.

    from apps.models import default_cache
    lm = default_cache().get("smollm2-135m-instruct", attn="eager")
    run = extract(lm, "The cat sat on the mat")
    run.attentions.shape                      # (layers, heads, tokens, tokens)
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from apps.attention.recipes import attention_modules
from apps.errors import LabError
from apps.models.tokens import axis_labels

MAX_TOKENS = 256  # beyond this the page would carry L*H*T*T numbers nobody can read (30*9*256² ≈ 18M)


@dataclass
class AttentionRun:
    model: str
    arch: str  # config.model_type: llama, gemma3_text, bert …
    causal: bool
    tokens: list[str]  # readable text of each token
    ids: list[int]
    attentions: np.ndarray  # (L, H, T, T) float32, row = query token, column = key token
    layer_inputs: torch.Tensor  # (L, T, d) float32 on CPU, what entered each attention block
    n_kv_heads: int
    head_dim: int
    seconds: float = 0.0

    @property
    def n_layers(self) -> int:
        return self.attentions.shape[0]

    @property
    def n_heads(self) -> int:
        return self.attentions.shape[1]

    @property
    def n_tokens(self) -> int:
        return self.attentions.shape[2]

    def shapes(self) -> dict:
        return {
            "layers": self.n_layers, "heads": self.n_heads, "kv_heads": self.n_kv_heads,
            "head_dim": self.head_dim, "tokens": self.n_tokens,
            "attentions": list(self.attentions.shape), "layer_inputs": list(self.layer_inputs.shape),
        }


def token_labels(tokenizer, ids: list[int]) -> list[str]:
    """One readable label per token: its decoded text; a byte-level piece that is only part of a
    character shows its bytes and the character, '模:<E6><A8>' (apps.models.tokens.axis_labels); a
    token that decodes to nothing shows its vocabulary entry."""
    pieces = tokenizer.convert_ids_to_tokens(ids)
    return [label or piece for label, piece in zip(axis_labels(tokenizer, ids), pieces)]


def tokenize(lm, text: str, max_tokens: int = MAX_TOKENS) -> dict:
    """Tokenize with the model's own special tokens (BOS, [CLS]/[SEP]); enforce the length bound."""
    if not text or not text.strip():
        raise LabError("attention.empty")
    enc = lm.tokenizer(text, return_tensors="pt")
    n = int(enc["input_ids"].shape[1])
    if n > max_tokens:
        raise LabError("attention.too_long", n=n, max=max_tokens)
    return dict(enc)


@torch.no_grad()
def extract(lm, text: str, max_tokens: int = MAX_TOKENS) -> AttentionRun:
    """One forward pass with output_attentions; see the module docstring."""
    if getattr(lm, "variant", "lm") != "lm":
        raise LabError("attention.needs_lm")
    model = lm.model
    enc = {k: v.to(lm.device) for k, v in tokenize(lm, text, max_tokens).items()}
    modules = attention_modules(model)
    captured: list[torch.Tensor | None] = [None] * len(modules)

    def catcher(index):
        def hook(_module, args, kwargs):
            hidden = kwargs.get("hidden_states", args[0] if args else None)
            captured[index] = hidden[0].detach().float().cpu()  # (T, d)
        return hook

    started = time.perf_counter()
    with lm.lock:  # the hooks are on a shared model: nobody else may run it meanwhile
        handles = [m.register_forward_pre_hook(catcher(i), with_kwargs=True) for i, m in enumerate(modules)]
        try:
            out = model(**enc, output_attentions=True, use_cache=False) if lm.kind != "embedding" \
                else model(**enc, output_attentions=True)
        finally:
            for handle in handles:
                handle.remove()
    if not out.attentions or out.attentions[0] is None:
        raise LabError("attention.no_weights", name=lm.name)
    attentions = torch.stack([a[0] for a in out.attentions]).float().cpu().numpy()  # (L, H, T, T)
    config = model.config
    ids = enc["input_ids"][0].tolist()
    return AttentionRun(
        model=lm.name, arch=getattr(config, "model_type", type(model).__name__),
        causal=bool(getattr(modules[0], "is_causal", False)),
        tokens=token_labels(lm.tokenizer, ids), ids=ids, attentions=attentions,
        layer_inputs=torch.stack(captured), n_kv_heads=getattr(config, "num_key_value_heads", None)
        or config.num_attention_heads,
        head_dim=attentions.shape[-1] and (getattr(modules[0], "head_dim", None)
                                           or getattr(modules[0], "attention_head_size", 0)),
        seconds=time.perf_counter() - started,
    )
