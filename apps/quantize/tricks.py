"""Inference tricks, each measured with a real model: KV cache, GQA's cache size, prompt-lookup
(speculative) decoding, sdpa vs eager attention.

    from apps.quantize import tricks
    tricks.kv_cache_speed(lm, new_tokens=48)        # ms per token with and without the KV cache
    tricks.kv_cache_size(lm.model.config)           # bytes per sequence length: GQA vs MHA vs MQA
    tricks.prompt_lookup(lm, prompt)                # acceptance rate and speed-up, same greedy text
    tricks.attention_speed(cache, "smollm2-135m-instruct", lengths=(128, 512))

These loops call the model directly (like the attention tab reads attention): what they teach is
what happens inside one decoding step, which the generation engine hides.
"""
from __future__ import annotations

import time

import torch

from apps.models.generation import encode, render_prompt
from apps.models.loading import LoadedModel

COPY_PROMPT = ("Copy the following paragraph exactly, fixing only the spelling mistake:\n\n"
               "The weather station on the island stopped reporting wind speed because a gull stood on the "
               "anemometer for hours. The technician fitted a ring of blunt wire spikes to keep the birds off "
               "without hurting them, and the data started flowing agian the next morning.")


def _ids(lm: LoadedModel, prompt: str) -> torch.Tensor:
    return torch.tensor([encode(lm, render_prompt(lm, prompt))], device=lm.device)


def kv_cache_speed(lm: LoadedModel, new_tokens: int = 48, prompt: str = COPY_PROMPT) -> dict:
    """Greedy decoding twice: reusing past keys/values (one new token per step) and recomputing the
    whole sequence every step. Returns ms per step at each generated length for both."""
    ids = _ids(lm, prompt)
    runs = {}
    with torch.inference_mode():
        for use_cache in (True, False):
            seq, past, step_ms, out_ids = ids, None, [], []
            for _ in range(new_tokens):
                t0 = time.perf_counter()
                if use_cache:
                    out = lm.model(input_ids=seq if past is None else seq[:, -1:], cache=past, use_cache=True)
                    past = out.cache
                else:
                    out = lm.model(input_ids=seq, use_cache=False)  # (1, T) every step: O(T) work per token
                next_id = out.logits[:, -1].argmax(-1, keepdim=True)  # (1, 1)
                step_ms.append((time.perf_counter() - t0) * 1000)
                seq = torch.cat([seq, next_id], dim=1)
                out_ids.append(int(next_id))
            runs[use_cache] = (step_ms, out_ids)
    on, off = runs[True][0], runs[False][0]
    return {
        "prompt_tokens": int(ids.shape[1]), "new_tokens": new_tokens,
        "lengths": [int(ids.shape[1]) + i + 1 for i in range(new_tokens)],  # sequence length after each step
        "with_cache_ms": [round(x, 3) for x in on], "without_cache_ms": [round(x, 3) for x in off],
        # the first step is the prompt's prefill in both runs; decode speed is the rest
        "with_cache_tokens_per_s": round((new_tokens - 1) / (sum(on[1:]) / 1000), 2),
        "without_cache_tokens_per_s": round((new_tokens - 1) / (sum(off[1:]) / 1000), 2),
        "speedup": round(sum(off[1:]) / sum(on[1:]), 2),
        "same_output": runs[True][1] == runs[False][1],
    }


def kv_cache_size(config, seq_lens=(512, 2048, 8192), dtype_bytes: int = 2, batch: int = 1) -> dict:
    """KV-cache bytes from a model config: 2 (K and V) × layers × kv_heads × head_dim × tokens ×
    bytes, for the model's own key/value heads (GQA), one per query head (MHA) and one in all (MQA).
    Sliding-window layers (Gemma 3) keep at most `sliding_window` tokens."""
    config = getattr(config, "text_config", None) or config
    layers, heads = config.num_hidden_layers, config.num_attention_heads
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    window = getattr(config, "sliding_window", None)
    kinds = list(getattr(config, "layer_types", None) or ["full_attention"] * layers)

    def size(n_kv: int, tokens: int) -> int:
        kept = sum(min(tokens, window) if (k == "sliding_attention" and window) else tokens for k in kinds)
        return 2 * n_kv * head_dim * kept * dtype_bytes * batch

    rows = [{"tokens": n, "gqa_bytes": size(kv_heads, n), "mha_bytes": size(heads, n), "mqa_bytes": size(1, n)}
            for n in seq_lens]
    return {"layers": layers, "heads": heads, "kv_heads": kv_heads, "head_dim": head_dim, "group": heads // kv_heads,
            "sliding_window": window, "sliding_layers": kinds.count("sliding_attention"),
            "dtype_bytes": dtype_bytes, "rows": rows}


def cache_tensors_bytes(past) -> int:
    """Bytes of the key and value tensors a transformers cache object holds."""
    layers = getattr(past, "layers", None)
    if layers is not None:
        return sum(int(t.numel() * t.element_size()) for layer in layers
                   for t in (getattr(layer, "keys", None), getattr(layer, "values", None)) if t is not None)
    return sum(int(t.numel() * t.element_size()) for pair in past for t in pair)


def measured_kv_bytes(lm: LoadedModel, tokens: int) -> int:
    """Run `tokens` tokens through the model and weigh the cache it returns (checks the formula)."""
    ids = torch.randint(3, lm.tokenizer.vocab_size - 1, (1, tokens), device=lm.device)
    with torch.inference_mode():
        return cache_tensors_bytes(lm.model(input_ids=ids, use_cache=True).cache)


def _lookup(seq: list[int], ngram: int, num_pred: int) -> list[int]:
    """Prompt lookup: find the latest earlier occurrence of the last `ngram` tokens and propose
    the tokens that followed it (longest n-gram first)."""
    for n in range(ngram, 0, -1):
        tail = seq[-n:]
        for start in range(len(seq) - n - 1, -1, -1):
            if seq[start:start + n] == tail:
                return seq[start + n:start + n + num_pred]
    return []


def prompt_lookup(lm: LoadedModel, prompt: str = COPY_PROMPT, max_new_tokens: int = 64, ngram: int = 3,
                  num_pred: int = 8, hf_check: bool = True) -> dict:
    """Speculative decoding with a free draft: guesses copied from the text so far, all checked in
    one forward pass; the longest prefix the model agrees with is kept, plus the model's own next
    token. Output equals plain greedy decoding; the gain is fewer forward passes.
    hf_check also times transformers' built-in (`generate(prompt_lookup_num_tokens=...)`)."""
    ids = _ids(lm, prompt)
    eos = lm.tokenizer.eos_token_id
    with torch.inference_mode():
        # plain greedy with the KV cache: the reference text and time
        t0 = time.perf_counter()
        out = lm.model(input_ids=ids, use_cache=True)
        past, plain = out.cache, []
        for _ in range(max_new_tokens):
            nxt = int(out.logits[0, -1].argmax())
            plain.append(nxt)
            if nxt == eos:
                break
            out = lm.model(input_ids=torch.tensor([[nxt]], device=lm.device), cache=past, use_cache=True)
        plain_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        out = lm.model(input_ids=ids, use_cache=True)
        past, seq, new = out.cache, ids[0].tolist(), []
        nxt = int(out.logits[0, -1].argmax())
        proposed = accepted = passes = 0
        while True:
            new.append(nxt)
            seq.append(nxt)
            if nxt == eos or len(new) >= max_new_tokens:
                break
            draft = _lookup(seq, ngram, min(num_pred, max_new_tokens - len(new)))
            block = torch.tensor([[nxt] + draft], device=lm.device)  # (1, 1 + d)
            logits = lm.model(input_ids=block, cache=past, use_cache=True).logits[0]  # (1 + d, V)
            passes += 1
            guesses = logits.argmax(-1).tolist()  # the model's own choice after each block token
            ok = 0
            while ok < len(draft) and guesses[ok] == draft[ok]:
                ok += 1
            proposed, accepted = proposed + len(draft), accepted + ok
            for tok in draft[:ok]:
                new.append(tok)
                seq.append(tok)
            rejected = past.get_seq_length() - len(seq)
            if rejected > 0:
                past.crop(-rejected)  # forget the keys/values of the rejected guesses
            nxt = guesses[ok]
            if eos in draft[:ok] or len(new) >= max_new_tokens:
                break
        lookup_s = time.perf_counter() - t0
    new = new[:max_new_tokens]
    if eos in new:  # an accepted guess may run past the end of the reply
        new = new[:new.index(eos) + 1]
    result = {
        "new_tokens": len(new), "proposed": proposed, "accepted": accepted,
        "acceptance_rate": round(accepted / proposed, 4) if proposed else 0.0,
        "forward_passes": passes + 1, "plain_forward_passes": len(plain),
        "plain_s": round(plain_s, 3), "lookup_s": round(lookup_s, 3),
        "speedup": round(plain_s / lookup_s, 3) if lookup_s else None,
        "same_output": new == plain[:len(new)], "text": lm.tokenizer.decode(new, skip_special_tokens=True),
    }
    if hf_check:
        result.update(_hf_prompt_lookup(lm, ids, len(plain), num_pred))
    return result


def _hf_prompt_lookup(lm: LoadedModel, ids: torch.Tensor, new_tokens: int, num_pred: int) -> dict:
    """transformers' own assisted generation with prompt lookup, timed against its plain greedy."""
    kwargs = dict(attention_mask=torch.ones_like(ids), max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                  do_sample=False, pad_token_id=lm.tokenizer.eos_token_id)
    with torch.inference_mode():
        t0 = time.perf_counter()
        plain = lm.model.generate(ids, **kwargs)
        plain_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        looked = lm.model.generate(ids, prompt_lookup_num_tokens=num_pred, **kwargs)
        lookup_s = time.perf_counter() - t0
    return {"hf_plain_s": round(plain_s, 3), "hf_lookup_s": round(lookup_s, 3),
            "hf_speedup": round(plain_s / lookup_s, 3), "hf_same_output": plain.tolist() == looked.tolist()}


def attention_speed(cache, name: str, lengths=(128, 512), repeats: int = 2) -> dict:
    """One forward pass (prefill) over `lengths` tokens with PyTorch's fused sdpa and with eager
    attention (which materialises the T×T score matrix); best of `repeats`, in ms."""
    models = {attn: cache.get(name, attn=attn) for attn in ("sdpa", "eager")}
    rows = []
    with torch.inference_mode():
        for n in lengths:
            ids = torch.randint(3, models["sdpa"].tokenizer.vocab_size - 1, (1, n), device=models["sdpa"].device)
            row, logits = {"tokens": n}, {}
            for attn, lm in models.items():
                best = float("inf")
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    logits[attn] = lm.model(input_ids=ids, use_cache=False).logits[0, -1]
                    best = min(best, time.perf_counter() - t0)
                row[f"{attn}_ms"] = round(best * 1000, 2)
            row["max_logit_diff"] = float((logits["sdpa"] - logits["eager"]).abs().max())
            rows.append(row)
    return {"model": name, "rows": rows}
