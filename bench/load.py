"""A class at once: N concurrent streaming chats against a served lab, batched engine vs one at a time.

    .venv/bin/python bench/load.py [--clients 1 4 8 16 30] [--tokens 32 128] [--paths v1 ui]
                                   [--modes batched serial] [--single]

For each mode a fresh `llmlab serve` runs on a loopback port; "serial" is the old one-at-a-time path
(LLMLAB_MAX_BATCH=1, and a line of 7 behind it, as the old /v1 queue of 8 had). Each client sends one
greedy chat with a long-answer prompt (so replies run to max tokens) through
- v1: the official `openai` client, streaming, `/v1/chat/completions`;
- ui: the Playground's Gradio chat API (`/gradio_api/call/chat`, the endpoint gradio_client uses).
Per run: aggregate tokens/s (all tokens / wall time), time to first token p50/p95, per-client tokens/s
p50, refused (HTTP 429) and failed counts, and the ratio to a lone stream of the same run.
--single adds single-stream decode tokens/s of the lab's engine in this process and, where a llama.cpp
binding is installed (xllamacpp comes with make install), of the lab's llama.cpp engine ("m@llama.cpp")
and of llama.cpp's own loop (bench/llama_native.py) on the same GGUF (greedy, same prompt and length).
Loopback only; every loop is bounded by the client counts given. Prints JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
# Run as `python bench/load.py`, bench/ comes first on sys.path and bench/gguf.py would shadow the `gguf`
# package that the llama.cpp engine reads headers with: drop it, and import bench.llama_native from ROOT.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
MODEL = "smollm2-135m-instruct"
PROMPT = "Write a long, detailed story about a dragon who learns to read. Use many paragraphs."


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(mode: str) -> tuple[subprocess.Popen, str]:
    env = dict(os.environ)
    if mode == "serial":
        env.update(LLMLAB_MAX_BATCH="1", LLMLAB_MAX_WAITING="7")
    port = _port()
    proc = subprocess.Popen([sys.executable, "-m", "apps", "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 300
    while time.time() < deadline:
        try:
            if httpx.get(f"{url}/v1/models", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        proc.kill()
        raise SystemExit("the lab did not start")
    # Load the model before timing anything.
    httpx.post(f"{url}/v1/chat/completions", timeout=300,
               json={"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2})
    return proc, url


def client_v1(url: str, tokens: int, out: dict) -> None:
    from openai import OpenAI, RateLimitError

    client = OpenAI(base_url=f"{url}/v1", api_key="EMPTY", max_retries=0, timeout=600)
    t0 = time.perf_counter()
    try:
        stream = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": PROMPT}], max_tokens=tokens, temperature=0,
            stream=True, stream_options={"include_usage": True})
        first, n = None, 0
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content and first is None:
                first = time.perf_counter() - t0
            if chunk.usage:
                n = chunk.usage.completion_tokens
        out.update(ttft=first, tokens=n, seconds=time.perf_counter() - t0)
    except RateLimitError:
        out.update(refused=True)
    except Exception as exc:  # noqa: BLE001 - counted, and the run goes on
        out.update(error=f"{type(exc).__name__}: {exc}")


def client_ui(url: str, tokens: int, out: dict, tokenizer) -> None:
    t0 = time.perf_counter()
    try:
        r = httpx.post(f"{url}/gradio_api/call/chat", timeout=60,
                       json={"data": [PROMPT, [], MODEL, "", tokens, 0.0, 0, "en"]})
        r.raise_for_status()
        event_id = r.json()["event_id"]
        first, text = None, ""
        with httpx.stream("GET", f"{url}/gradio_api/call/chat/{event_id}", timeout=600) as resp:
            event = None
            for line in resp.iter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event in ("generating", "complete"):
                    data = json.loads(line[5:])
                    if data and data[0]:
                        text = data[0]
                        if first is None:
                            first = time.perf_counter() - t0
                elif line.startswith("data:") and event == "error":
                    out.update(error=line[5:].strip()[:200])
                    return
        out.update(ttft=first, tokens=len(tokenizer(text, add_special_tokens=False)["input_ids"]),
                   seconds=time.perf_counter() - t0)
    except Exception as exc:  # noqa: BLE001
        out.update(error=f"{type(exc).__name__}: {exc}")


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(round(q * (len(values) - 1))))], 3)


def run(url: str, path: str, n: int, tokens: int, tokenizer) -> dict:
    outs = [{} for _ in range(n)]
    target = client_v1 if path == "v1" else client_ui
    args = (lambda i: (url, tokens, outs[i])) if path == "v1" else (lambda i: (url, tokens, outs[i], tokenizer))
    threads = [threading.Thread(target=target, args=args(i)) for i in range(n)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    done = [o for o in outs if "tokens" in o]
    ttfts = [o["ttft"] for o in done if o.get("ttft") is not None]
    total = sum(o["tokens"] for o in done)
    per_client = [o["tokens"] / o["seconds"] for o in done if o["seconds"] > 0]
    return {"clients": n, "tokens": tokens, "path": path, "served": len(done),
            "refused": sum(1 for o in outs if o.get("refused")), "failed": sum(1 for o in outs if "error" in o),
            "errors": sorted({o["error"] for o in outs if "error" in o})[:3],
            "wall_s": round(wall, 2), "aggregate_tok_s": round(total / wall, 2),
            "ttft_p50_s": _pct(ttfts, 0.5), "ttft_p95_s": _pct(ttfts, 0.95),
            "per_client_tok_s_p50": _pct(per_client, 0.5)}


def single_stream(tokens: int) -> dict:
    """Decode tokens/s of one greedy stream: the lab's engine here, llama.cpp on the same GGUF."""
    from apps.models import default_cache
    from apps.models.generation import GenerationConfig, generate
    from apps.models.loading import gguf_path
    from apps.models.registry import resolve

    from apps.models.batching import BatchEngine

    lm = default_cache().get(MODEL)
    out = {}
    for dtype in ("bf16", "fp32"):  # fp32 last: it stays the engine generate() uses below
        lm.engine = BatchEngine(lm, dtype=dtype)
        generate(lm, "warm up", GenerationConfig(max_new_tokens=4))
        runs = [generate(lm, PROMPT, GenerationConfig(max_new_tokens=tokens)) for _ in range(3)]
        out[f"lab_{dtype}_decode_tok_s"] = round(statistics.median(r.tokens_per_s for r in runs), 2)
    lab = out["lab_fp32_decode_tok_s"]
    out["lab_tokens"] = runs[0].completion_tokens
    from apps.models import llamacpp
    from bench.llama_native import decode_tok_s

    if not llamacpp.available():
        out["llama_cpp"] = "no llama.cpp binding installed (xllamacpp: make install)"
        return out
    # the lab's own llama.cpp engine ("m@llama.cpp": llama.cpp's forward pass, the lab's token choice)
    ref = default_cache().get(MODEL + llamacpp.SUFFIX)
    generate(ref, "warm up", GenerationConfig(max_new_tokens=4))
    runs = [generate(ref, PROMPT, GenerationConfig(max_new_tokens=tokens)) for _ in range(3)]
    out["lab_llama_cpp_engine_decode_tok_s"] = round(statistics.median(r.tokens_per_s for r in runs), 2)
    native = decode_tok_s(str(gguf_path(resolve(MODEL))), tokens, 3)  # with the engine's own thread count
    out["llama_cpp_backend"] = native["backend"]
    out["llama_cpp_decode_tok_s"] = native["decode_tok_s"]
    out["lab_vs_llama_cpp"] = round(lab / out["llama_cpp_decode_tok_s"], 3)
    out["lab_bf16_vs_llama_cpp"] = round(out["lab_bf16_decode_tok_s"] / out["llama_cpp_decode_tok_s"], 3)
    out["lab_llama_cpp_engine_vs_llama_cpp"] = round(out["lab_llama_cpp_engine_decode_tok_s"]
                                                     / out["llama_cpp_decode_tok_s"], 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 8, 16, 30], help="concurrent clients")
    parser.add_argument("--tokens", type=int, nargs="+", default=[32, 128], help="max new tokens per reply")
    parser.add_argument("--paths", nargs="+", default=["v1", "ui"], choices=["v1", "ui"], help="where clients go")
    parser.add_argument("--modes", nargs="+", default=["batched", "serial"], choices=["batched", "serial"],
                        help="batched engine, or the old one-at-a-time path as the baseline")
    parser.add_argument("--single", action="store_true", help="also single-stream decode vs llama.cpp")
    args = parser.parse_args()
    if any(n > 64 for n in args.clients):
        raise SystemExit("at most 64 clients: this is a loopback bench, not a load generator")
    from transformers import AutoTokenizer

    from apps.models import default_cache

    tokenizer = AutoTokenizer.from_pretrained(default_cache().get(MODEL).path)
    report = {"model": MODEL, "cpus": os.cpu_count(), "runs": []}
    for mode in args.modes:
        proc, url = start_server(mode)
        try:
            for tokens in args.tokens:
                for path in args.paths:
                    lone = None
                    for n in args.clients:
                        row = {"mode": mode, **run(url, path, n, tokens, tokenizer)}
                        lone = row["aggregate_tok_s"] if n == 1 else lone
                        if lone:
                            row["x_lone_stream"] = round(row["aggregate_tok_s"] / lone, 2)
                        report["runs"].append(row)
                        print(json.dumps(row), file=sys.stderr, flush=True)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    if args.single:
        report["single_stream"] = single_stream(max(args.tokens))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
