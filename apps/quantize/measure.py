"""Size, speed and quality of a model before and after quantisation, measured on this machine.

    from apps.quantize.measure import compare
    report = compare("smollm2-135m-instruct", "int8")          # the CLI contract's JSON
    report["baseline"]["perplexity"], report["quantized"]["perplexity"], report["ratios"]

Perplexity = exp(mean negative log-likelihood per token) of a text, in non-overlapping windows;
the default text (curriculum/data/quantize/eval_zh_en.txt) was written for the lab, so no model has
seen it. Decode speed runs the lab's generation engine (apps.models.generation), greedy.
"""
from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

import torch

from apps.errors import LabError
from apps.models.generation import GenerationConfig, generate
from apps.models.loading import LoadedModel
from apps.models.registry import resolve, split_quant
from apps.quantize import methods, store
from apps.quantize.qlinear import tensor_bytes

DEFAULT_TEXT = Path(__file__).resolve().parents[2] / "curriculum" / "data" / "quantize" / "eval_zh_en.txt"
MAX_TEXT_CHARS = 100_000  # a bigger text only costs time: perplexity settles within a few thousand tokens
SPEED_PROMPT = "Tell me a long story about a lighthouse keeper and a storm."
SAMPLE_PROMPTS = ("What is quantization in machine learning?", "Give three tips for learning a new language.",
                  "用一句话介绍长城。")


def read_text(path: str | Path | None = None, text: str | None = None) -> str:
    """The eval text: given directly, read from a file, or the lab's default. Empty → LabError."""
    if text is None:
        p = Path(path) if path else DEFAULT_TEXT
        if not p.is_file():
            raise LabError("quantize.no_text_file", path=str(p))
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise LabError("quantize.bad_text_file", path=str(p)) from exc
    if not text.strip():
        raise LabError("quantize.empty_text")
    return text[:MAX_TEXT_CHARS]


def perplexity(lm: LoadedModel, text: str, window: int = 512, max_tokens: int = 4096) -> dict:
    """{"perplexity", "tokens"} of `text` under the model (the first `max_tokens` tokens)."""
    ids = lm.tokenizer(text, return_tensors="pt")["input_ids"][:, :max_tokens].to(lm.device)
    if ids.shape[1] < 2:
        raise LabError("quantize.empty_text")
    nll, count = 0.0, 0
    with torch.inference_mode():
        for start in range(0, ids.shape[1] - 1, window):
            chunk = ids[:, start:start + window + 1]  # (1, ≤ window+1): inputs and their next tokens
            if chunk.shape[1] < 2:
                break
            logits = lm.model(chunk[:, :-1]).logits.float()  # (1, T, V)
            logprobs = torch.log_softmax(logits, dim=-1)
            nll -= float(logprobs.gather(-1, chunk[:, 1:, None]).sum())
            count += chunk.shape[1] - 1
    return {"perplexity": math.exp(nll / count), "tokens": count}


def decode_speed(lm: LoadedModel, new_tokens: int = 32, prompt: str = SPEED_PROMPT) -> float:
    """Greedy decode tokens/s through the lab's generation engine (after one short warm-up)."""
    cfg = GenerationConfig(max_new_tokens=new_tokens, top_logprobs=0)
    generate(lm, prompt, GenerationConfig(max_new_tokens=2, top_logprobs=0))
    return generate(lm, prompt, cfg).tokens_per_s


def disk_bytes(lm: LoadedModel, method: str | None, group_size: int) -> int:
    """Bytes of the weight files: the model's own folder for the baseline, a saved copy otherwise."""
    if method is None:
        on_disk = store.folder_bytes(lm.path) if Path(lm.path).is_dir() else 0
        return on_disk or tensor_bytes(lm.model)
    with tempfile.TemporaryDirectory(prefix="llmlab-quant-") as tmp:
        return store.folder_bytes(store.save_folder(lm, Path(tmp) / "m", method, group_size))


def measure(lm: LoadedModel, text: str, method: str | None = None, group_size: int = 32,
            new_tokens: int = 32, disk: bool = True) -> dict:
    started = time.perf_counter()
    ppl = perplexity(lm, text)
    row = {
        "size_mb": round(tensor_bytes(lm.model) / 2**20, 1),  # weights in memory
        "disk_mb": round(disk_bytes(lm, method, group_size) / 2**20, 1) if disk else None,
        "perplexity": round(ppl["perplexity"], 4),
        "tokens_per_s": round(decode_speed(lm, new_tokens), 2),
        "eval_tokens": ppl["tokens"],
        "dtype": str(lm.dtype).replace("torch.", ""),
    }
    row["seconds"] = round(time.perf_counter() - started, 1)
    return row


def side_by_side(base: LoadedModel, quant: LoadedModel, prompts=SAMPLE_PROMPTS, max_new_tokens: int = 40) -> list[dict]:
    """Greedy replies of both models to the same prompts, and how many leading tokens agree."""
    cfg = GenerationConfig(max_new_tokens=max_new_tokens, top_logprobs=0)
    rows = []
    for prompt in prompts:
        a, b = generate(base, prompt, cfg), generate(quant, prompt, cfg)
        rows.append({"prompt": prompt, "baseline": a.text, "quantized": b.text,
                     "same_prefix_tokens": common_prefix([t.id for t in a.tokens], [t.id for t in b.tokens]),
                     "tokens": len(a.tokens)})
    return rows


def common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def compare(model: str, method: str, eval_path: str | None = None, eval_text: str | None = None,
            output: str | None = None, cache=None, group_size: int = methods.DEFAULT_GROUP,
            samples: int = 0, new_tokens: int = 32, progress=None) -> dict:
    """The CLI contract: {"baseline": {size_mb, perplexity, tokens_per_s, ...}, "quantized": {...},
    "ratios": {...}}; baseline = the model as the lab loads it. Cheap checks first."""
    from apps.models import default_cache

    say = progress or (lambda _step: None)
    base_name, _ = split_quant(model)
    spec = resolve(base_name)
    methods.check(method, spec.kind, spec.name)
    text = read_text(eval_path, eval_text)
    if output and Path(output).exists() and any(Path(output).iterdir()):
        raise LabError("quantize.output_exists", path=str(Path(output).resolve()))
    cache = cache or default_cache()
    say("load")
    base = cache.get(base_name)
    say("quantize")
    # the default group size is what "M+int4" means everywhere, so that copy is shared via the cache
    quant = (cache.get(f"{spec.name}+{method}") if group_size == methods.DEFAULT_GROUP
             else methods.quantize_loaded(base, method, group_size))
    say("baseline")
    report = {"model": spec.name, "method": method, "group_size": group_size if method == "int4" else None,
              "device": base.device, "quantize_seconds": round(quant.load_seconds, 2),
              "baseline": measure(base, text, None, group_size, new_tokens)}
    say("quantized")
    report["quantized"] = measure(quant, text, method, group_size, new_tokens)
    b, q = report["baseline"], report["quantized"]
    report["ratios"] = {"size": round(q["size_mb"] / b["size_mb"], 4),
                        "perplexity": round(q["perplexity"] / b["perplexity"], 4),
                        "tokens_per_s": round(q["tokens_per_s"] / max(b["tokens_per_s"], 1e-9), 4)}
    if samples:
        say("samples")
        report["samples"] = side_by_side(base, quant, SAMPLE_PROMPTS[:samples])
    if output:
        report["saved"] = str(store.save_folder(quant, output, method, group_size))
    return report
