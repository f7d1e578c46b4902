"""Export a lab model (SmolLM2, a tiny GPT pretrained in the lab, a fine-tuned model with its adapter
merged) to one GGUF file that llama.cpp, Ollama and transformers' `gguf_file=` load.

    from apps.quantize.gguf_export import export_gguf
    export_gguf("runs/pretrain/alice-1", "tiny.gguf", qtype="q8_0")   # → {"path", "size_mb", ...}

Written with the `gguf` package (the writer llama.cpp's own converter uses), for the Llama
architecture only: that is what SmolLM2 and the pretraining stage build. Two details matter for a
file that loads with the right outputs:
- transformers rotates query/key halves ("rotate_half") while llama.cpp rotates neighbouring pairs,
  so the q and k projections are permuted on the way out (llama.cpp's converter does the same; the
  transformers loader undoes it on the way back);
- the tokenizer goes in whole (tokens, their types, BPE merges, special ids, chat template), so the
  file alone is enough to chat with.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from apps.errors import LabError

QTYPES = ("f32", "f16", "q8_0")  # q8_0: blocks of 32 int8 weights with one f16 scale (llama.cpp's int8)
ARCH = "llama"


def _check_output(path: Path) -> Path:
    path = Path(path).expanduser()
    if path.suffix.lower() != ".gguf":
        raise LabError("quantize.gguf_suffix", path=str(path))
    if path.exists():
        raise LabError("quantize.gguf_exists", path=str(path))  # nothing a user made is overwritten
    if not path.parent.is_dir():
        raise LabError("quantize.gguf_no_folder", path=str(path.parent))
    return path


def _float_model(name: str):
    """The model as float weights (an adapter merged into a copy; the cache's copy is untouched)."""
    import copy

    from apps.models import default_cache, registry

    base, quant = registry.split_quant(name)
    if quant:
        raise LabError("quantize.gguf_from_quantized", name=name, base=base)
    lm = default_cache().get(name)
    if lm.kind == registry.EMBEDDING:
        raise LabError("quantize.embedding_model", name=name)
    model = lm.model
    if hasattr(model, "merge_and_unload"):  # a peft adapter: bake it into the weights
        model = copy.deepcopy(model).merge_and_unload()
    if model.config.model_type != ARCH:
        raise LabError("quantize.gguf_arch", name=name, arch=model.config.model_type)
    return lm, model


def _permute(w: np.ndarray, n_head: int) -> np.ndarray:
    # rotate_half (first half / second half of each head) → interleaved pairs, as llama.cpp expects.
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def _tensor_name(hf: str) -> str | None:
    parts = hf.split(".")
    if hf == "model.embed_tokens.weight":
        return "token_embd.weight"
    if hf == "model.norm.weight":
        return "output_norm.weight"
    if hf == "lm_head.weight":
        return "output.weight"
    if parts[:2] == ["model", "layers"]:
        layer, rest = parts[2], ".".join(parts[3:])
        table = {"self_attn.q_proj.weight": "attn_q", "self_attn.k_proj.weight": "attn_k",
                 "self_attn.v_proj.weight": "attn_v", "self_attn.o_proj.weight": "attn_output",
                 "mlp.gate_proj.weight": "ffn_gate", "mlp.up_proj.weight": "ffn_up",
                 "mlp.down_proj.weight": "ffn_down", "input_layernorm.weight": "attn_norm",
                 "post_attention_layernorm.weight": "ffn_norm"}
        if rest in table:
            return f"blk.{layer}.{table[rest]}.weight"
    return None


def _add_tokenizer(writer, tokenizer) -> None:
    import gguf

    data = json.loads(tokenizer.backend_tokenizer.to_str())
    if data["model"]["type"] != "BPE":
        raise LabError("quantize.gguf_tokenizer", kind=data["model"]["type"])
    vocab: dict[str, int] = dict(data["model"]["vocab"])
    special = set()
    for tok in data.get("added_tokens", []):
        vocab[tok["content"]] = tok["id"]
        if tok.get("special"):
            special.add(tok["id"])
    size = max(max(vocab.values()) + 1, len(tokenizer))
    by_id = {i: t for t, i in vocab.items()}
    tokens, types = [], []
    for i in range(size):
        if i in by_id:
            tokens.append(by_id[i])
            types.append(gguf.TokenType.CONTROL if i in special else gguf.TokenType.NORMAL)
        else:  # a hole in the ids: llama.cpp needs one entry per id
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
    merges = [m if isinstance(m, str) else " ".join(m) for m in data["model"].get("merges", [])]
    writer.add_tokenizer_model("gpt2")  # byte-level BPE, GPT-2's byte table
    writer.add_tokenizer_pre("smollm" if "smollm" in (tokenizer.name_or_path or "").lower() else "gpt-2")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    for key, add in (("bos_token_id", writer.add_bos_token_id), ("eos_token_id", writer.add_eos_token_id),
                     ("pad_token_id", writer.add_pad_token_id)):
        value = getattr(tokenizer, key, None)
        if value is not None:
            add(int(value))
    writer.add_add_bos_token(bool(getattr(tokenizer, "add_bos_token", False)))
    if getattr(tokenizer, "chat_template", None):
        writer.add_chat_template(tokenizer.chat_template)


def export_gguf(name: str, output: str | Path, qtype: str = "q8_0") -> dict:
    """Write model `name` to `output` (a new .gguf file). Returns {"path", "qtype", "size_mb",
    "tensors", "seconds"}. Cheap checks (type, path) come before the model is loaded."""
    import gguf
    import torch

    qtype = (qtype or "").lower()
    if qtype not in QTYPES:
        raise LabError("quantize.gguf_qtype", qtype=qtype, choices=", ".join(QTYPES))
    out = _check_output(output)
    started = time.perf_counter()
    lm, model = _float_model(name)
    cfg = model.config
    n_head, n_kv = cfg.num_attention_heads, cfg.num_key_value_heads or cfg.num_attention_heads
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // n_head
    rope = getattr(cfg, "rope_parameters", None) or {}
    theta = rope.get("rope_theta") if isinstance(rope, dict) else None
    theta = theta or getattr(cfg, "rope_theta", 10000.0)

    writer = gguf.GGUFWriter(str(out), ARCH)
    writer.add_name(Path(lm.name).name)
    writer.add_context_length(int(cfg.max_position_embeddings))
    writer.add_embedding_length(int(cfg.hidden_size))
    writer.add_block_count(int(cfg.num_hidden_layers))
    writer.add_feed_forward_length(int(cfg.intermediate_size))
    writer.add_head_count(int(n_head))
    writer.add_head_count_kv(int(n_kv))
    writer.add_rope_dimension_count(int(head_dim))
    writer.add_rope_freq_base(float(theta))
    writer.add_layer_norm_rms_eps(float(cfg.rms_norm_eps))
    writer.add_vocab_size(int(cfg.vocab_size))
    writer.add_file_type({"f32": gguf.LlamaFileType.ALL_F32, "f16": gguf.LlamaFileType.MOSTLY_F16,
                          "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0}[qtype])
    _add_tokenizer(writer, lm.tokenizer)

    count = 0
    tied = bool(getattr(cfg, "tie_word_embeddings", False))
    for hf_name, tensor in model.state_dict().items():
        target = _tensor_name(hf_name)
        if target is None or (tied and target == "output.weight"):
            continue  # rotary buffers; a tied head is the embedding itself
        w = tensor.detach().to(torch.float32).cpu().numpy()
        if target.endswith("attn_q.weight"):
            w = _permute(w, n_head)
        elif target.endswith("attn_k.weight"):
            w = _permute(w, n_kv)
        if w.ndim == 1 or qtype == "f32":  # norms stay f32, as llama.cpp keeps them
            writer.add_tensor(target, w)
        elif qtype == "f16":
            writer.add_tensor(target, w.astype(np.float16))
        else:
            kind = gguf.GGMLQuantizationType.Q8_0
            writer.add_tensor(target, gguf.quants.quantize(w, kind), raw_dtype=kind)
        count += 1
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return {"path": str(out), "model": lm.name, "qtype": qtype, "tensors": count,
            "size_mb": round(out.stat().st_size / 2**20, 2), "seconds": round(time.perf_counter() - started, 1)}
