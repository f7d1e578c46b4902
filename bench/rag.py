"""RAG speed and retrieval quality, as JSON. A few minutes on 2 CPU cores.

    python bench/rag.py [--vectors 100000 --dim 384 --queries 200 --seeds ../shared/seeds]

1. Demo corpus (the lessons, zh+en): index build time (cold = embeddings computed, warm = from the
   disk cache), query latency p50/p95 per mode, and hit@5/MRR of each mode on our question sets —
   side by side with the baseline a user would otherwise reach for (plain dense MiniLM search).
2. FAISS at scale: HNSW and IVF against exact (flat) search on N synthetic unit vectors of dimension
   384 (MiniLM's): build seconds, recall@10 against the exact top 10, queries/s, speed-up vs flat.
   The vectors lie near a 32-dimensional subspace plus noise, like real sentence embeddings, whose
   intrinsic dimension is far below 384 (isotropic random vectors are a pathological worst case
   for every approximate index; `--isotropic` measures that case too).
3. With --seeds DIR: the same quality table over Chinese seed documents and their question sets.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT / "curriculum" / "data" / "rag"


def _pct(values, q) -> float:
    return round(float(np.percentile(values, q)) * 1000, 2)


def quality(index, sets: dict[str, Path]) -> dict:
    from rag.evaluate import evaluate, load_questions

    table = {}
    for name, path in sets.items():
        questions = load_questions(path)
        row = {}
        for mode, rerank in (("dense", None), ("lexical", None), ("hybrid", None), ("hybrid", "coverage")):
            r = evaluate(index, questions, k=5, mode=mode, rerank_with=rerank)
            row[mode + ("+rerank" if rerank else "")] = {"hit@5": r["hit@5"], "mrr": r["mrr"]}
        row["n"] = len(questions)
        row["default_vs_dense_hit@5"] = round(row["hybrid"]["hit@5"] / max(row["dense"]["hit@5"], 1e-9), 2)
        table[name] = row
    return table


def demo_corpus(embedder, queries: int) -> dict:
    import curriculum
    from rag.store import BuildConfig, RagIndex

    paths = curriculum.lesson_paths()
    with tempfile.TemporaryDirectory() as cache_dir:
        from rag.embed import Embedder

        cold_embedder = Embedder(embedder.name, cache_dir=cache_dir)
        t0 = time.perf_counter()
        index = RagIndex.build(paths, BuildConfig(), embedder=cold_embedder)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        RagIndex.build(paths, BuildConfig(), embedder=cold_embedder)
        warm = time.perf_counter() - t0
    questions = [json.loads(line)["question"] for name in ("lessons-zh", "lessons-en")
                 for line in (DATA / f"{name}.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = (questions * (queries // len(questions) + 1))[:queries]
    latency = {}
    for mode in ("dense", "lexical", "hybrid"):
        times, parts = [], {"embed": [], "search": []}
        for q in questions:
            t0 = time.perf_counter()
            result = index.search(q, k=5, mode=mode)
            times.append(time.perf_counter() - t0)
            for part in parts:
                parts[part].append(result.timings[part])
        latency[mode] = {"p50_ms": _pct(times, 50), "p95_ms": _pct(times, 95),
                         "embed_p50_ms": _pct(parts["embed"], 50), "search_p50_ms": _pct(parts["search"], 50)}
    return {"files": len(paths), "chunks": len(index.chunks), "build_cold_s": round(cold, 2),
            "build_warm_s": round(warm, 2), "queries": len(questions), "query_latency": latency,
            "quality": quality(index, {"lessons-zh": DATA / "lessons-zh.jsonl", "lessons-en": DATA / "lessons-en.jsonl"})}


def faiss_scale(n: int, dim: int, n_queries: int, isotropic: bool = False) -> dict:
    from rag.vectors import VectorIndex

    rng = np.random.default_rng(0)
    if isotropic:
        data = rng.standard_normal((n, dim)).astype(np.float32)
    else:  # latent (n, 32) @ mixing (32, dim) + noise: low intrinsic dimension, as real embeddings have
        latent = rng.standard_normal((n, 32)).astype(np.float32)
        data = latent @ rng.standard_normal((32, dim)).astype(np.float32) / np.sqrt(32)
        data += 0.3 * rng.standard_normal((n, dim)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    # Queries near stored vectors (a stored vector plus noise), as real queries land near documents.
    picks = rng.choice(n, n_queries, replace=False)
    queries = data[picks] + 0.5 * rng.standard_normal((n_queries, dim)).astype(np.float32) / np.sqrt(dim)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    out, exact = {}, None
    for kind, settings in (("flat", [{}]), ("hnsw", [{"ef_search": 32}, {"ef_search": 64}, {"ef_search": 128}]),
                           ("ivf", [{"nprobe": 4}, {"nprobe": 16}, {"nprobe": 64}])):
        t0 = time.perf_counter()
        # Build settings sized for a 2-core machine: M=16/efConstruction=40 builds 100k vectors in
        # well under a minute; nlist = √n cells keeps k-means training short.
        index = VectorIndex.build(data, kind, hnsw_m=16, ef_construction=40, nlist=int(np.sqrt(n)))
        build_s = time.perf_counter() - t0
        rows = []
        for s in settings:
            index.set_search_params(s.get("ef_search"), s.get("nprobe"))
            t0 = time.perf_counter()
            _, ids = index.search(queries, 10)
            seconds = time.perf_counter() - t0
            if kind == "flat":
                exact = ids
            recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ids, exact)]))
            rows.append({**s, "recall@10": round(recall, 4), "qps": round(n_queries / seconds, 1)})
        out[kind] = {"build_s": round(build_s, 2), "params": index.params, "runs": rows}
    flat_qps = out["flat"]["runs"][0]["qps"]
    for kind in ("hnsw", "ivf"):
        for row in out[kind]["runs"]:
            row["speedup_vs_flat"] = round(row["qps"] / flat_qps, 1)
    return {"vectors": n, "dim": dim, "queries": n_queries, "data": "isotropic" if isotropic else "low-rank+noise",
            "indexes": out}


def main(args) -> dict:
    import faiss
    import torch

    torch.set_num_threads(args.threads)
    faiss.omp_set_num_threads(args.threads)
    from rag.embed import Embedder

    embedder = Embedder("all-minilm-l6-v2")
    report = {"threads": args.threads, "demo_corpus": demo_corpus(embedder, args.queries),
              "faiss": faiss_scale(args.vectors, args.dim, args.queries, args.isotropic)}
    if args.seeds and Path(args.seeds).is_dir():
        from rag.store import BuildConfig, RagIndex

        index = RagIndex.build([args.seeds], BuildConfig(), embedder=embedder)
        report["seeds"] = {"chunks": len(index.chunks), "quality": quality(
            index, {"seeds-zh": DATA / "seeds-zh.jsonl", "seeds-zh-hard": DATA / "seeds-zh-hard.jsonl",
                   "seeds-zh-heldout": DATA / "seeds_zh_heldout.jsonl"})}
    return report


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vectors", type=int, default=100_000, help="vectors in the FAISS comparison")
    parser.add_argument("--dim", type=int, default=384, help="vector dimension (MiniLM: 384)")
    parser.add_argument("--queries", type=int, default=200, help="queries timed per setting")
    parser.add_argument("--isotropic", action="store_true", help="isotropic random vectors (worst case) instead")
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1), help="torch/faiss threads")
    parser.add_argument("--seeds", default=os.environ.get("LLMLAB_RAG_SEEDS", str(Path(__file__).resolve().parents[2] / "shared" / "seeds")),
                        help="folder of Chinese seed documents for the seeds question sets (skipped if absent)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    print(json.dumps(main(parse_args()), ensure_ascii=False, indent=2))
