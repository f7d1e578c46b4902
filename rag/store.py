"""A RAG index: chunks + embeddings + FAISS + BM25, built from files, saved to and loaded from a folder.

    from rag.store import RagIndex, BuildConfig
    idx = RagIndex.build(["curriculum/lessons"], BuildConfig(chunk_size=300, index_type="hnsw"))
    idx.save("runs/rag-demo")                       # atomic: temp folder + rename
    idx = RagIndex.load("runs/rag-demo")            # refuses a different embedder with a LabError
    result = idx.search("什么是 LoRA？", k=5, mode="hybrid")   # SearchResult(hits, timings)

Folder layout: meta.json (format version, build config, embedder identity, counts), chunks.jsonl
(one Chunk per line), vectors.npy (float32 (n, dim), for the 2-D map and rebuilding), index.faiss.
BM25 is rebuilt on load (milliseconds for thousands of chunks) rather than pickled.
"""
from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from apps.errors import LabError
from apps.userfiles import check_output_folder
from rag.chunking import Chunk, check_settings, chunk_documents
from rag.embed import DEFAULT_EMBEDDER, Embedder, check_embedder
from rag.hybrid import cross_encoder_rerank, rerank, rrf
from rag.lexical import BM25
from rag.loaders import Document, load_paths
from rag.vectors import VectorIndex

FORMAT = 1
MODES = ("hybrid", "lexical", "dense")
DEFAULT_MODE = "hybrid"
RRF_K = 10


@dataclass
class BuildConfig:
    chunk_size: int = field(default=300, metadata={"help": "characters per chunk"})
    overlap: int = field(default=60, metadata={"help": "characters repeated between neighbouring chunks"})
    strategy: str = field(default="sentence", metadata={"help": "sentence | fixed"})
    index_type: str = field(default="flat", metadata={"help": "flat | hnsw | ivf"})
    embedder: str = field(default=DEFAULT_EMBEDDER, metadata={"help": "registry name, folder or hub id"})
    bm25_k1: float = field(default=1.2, metadata={"help": "BM25 term-frequency saturation"})
    bm25_b: float = field(default=0.75, metadata={"help": "BM25 length normalisation"})


@dataclass
class Hit:
    chunk: Chunk
    score: float
    rank: int
    dense: float | None = None  # cosine similarity, when the chunk was in the dense list
    lexical: float | None = None  # BM25 score, when in the lexical list

    def to_dict(self) -> dict:
        return {"rank": self.rank, "score": round(self.score, 6), "dense": self.dense, "lexical": self.lexical,
                **self.chunk.to_dict()}


@dataclass
class SearchResult:
    query: str
    mode: str
    hits: list[Hit]
    timings: dict  # seconds: embed, search (dense + lexical + fusion), rerank
    query_vector: np.ndarray | None = None  # float32 (dim,), for the 2-D map

    def to_dict(self) -> dict:
        return {"query": self.query, "mode": self.mode, "timings": self.timings,
                "hits": [h.to_dict() for h in self.hits]}


def check_target(folder: str | Path) -> Path:
    """A folder an index may be saved to: new, empty, or an index already (replaced whole). A file
    or a folder of other things is refused, never overwritten; cheap, so `build` checks it first."""
    folder = check_output_folder(folder)
    if folder.is_dir() and not (folder / "meta.json").exists() and any(folder.iterdir()):
        raise LabError("rag.not_index_folder", path=str(folder))
    return folder


class RagIndex:
    def __init__(self, chunks: list[Chunk], vectors: np.ndarray, vindex: VectorIndex, embedder: Embedder,
                 config: BuildConfig, documents: dict[str, str] | None = None):
        self.chunks, self.vectors, self.vindex, self.embedder, self.config = chunks, vectors, vindex, embedder, config
        self.documents = documents or {}  # source → full text (for highlighting chunks in context)
        self.bm25 = BM25([c.text for c in chunks], k1=config.bm25_k1, b=config.bm25_b)

    # ---- building -------------------------------------------------------------------------
    @classmethod
    def build(cls, paths_or_docs, config: BuildConfig | None = None, embedder: Embedder | None = None,
              progress=None, names: list[str] | None = None, skipped: list | None = None) -> "RagIndex":
        """paths (files/folders) or Documents → index. progress(fraction 0..1, stage) if given.
        Files that fail to load are skipped (their LabErrors appended to `skipped`) unless none load.
        names: display names for the paths (e.g. uploads' original names)."""
        config = config or BuildConfig()
        check_settings(config.chunk_size, config.overlap, config.strategy)  # cheap checks before loading files
        if embedder is None:
            check_embedder(config.embedder)
        report = progress or (lambda frac, stage: None)
        report(0.0, "load")
        docs = [d for d in paths_or_docs if isinstance(d, Document)]
        paths = [p for p in paths_or_docs if not isinstance(p, Document)]
        if paths:
            docs += load_paths(paths, skip_bad=True, names=names, errors=skipped)
        if not docs:
            raise LabError("rag.no_text", name="-")
        report(0.05, "chunk")
        chunks = chunk_documents(docs, config.chunk_size, config.overlap, config.strategy)
        embedder = embedder or Embedder(config.embedder)
        if embedder.name != config.embedder:
            config.embedder = embedder.name
        vectors = embedder.encode([c.text for c in chunks],
                                  progress=lambda done, total: report(0.1 + 0.8 * done / max(total, 1), "embed"))
        report(0.9, "index")
        vindex = VectorIndex.build(vectors, config.index_type)
        report(1.0, "done")
        return cls(chunks, vectors, vindex, embedder, config, {d.source: d.text for d in docs})

    # ---- saving and loading ---------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        """Write the index to `folder` atomically: a temp sibling folder, renamed over the target."""
        folder = Path(folder).expanduser().resolve()
        folder.parent.mkdir(parents=True, exist_ok=True)
        check_target(folder)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}-"))
        try:
            meta = {"format": FORMAT, "config": asdict(self.config), "embedder": self.embedder.identity,
                    "index": {"kind": self.vindex.kind, "params": self.vindex.params},
                    "n_chunks": len(self.chunks), "sources": sorted({c.source for c in self.chunks})}
            with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as out:
                for chunk in self.chunks:
                    out.write(json.dumps(chunk.to_dict(), ensure_ascii=False) + "\n")
            with open(tmp / "documents.json", "w", encoding="utf-8") as out:
                json.dump(self.documents, out, ensure_ascii=False)
            np.save(tmp / "vectors.npy", self.vectors)
            self.vindex.save(str(tmp / "index.faiss"))
            (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
            old = None
            if folder.exists():  # swap: the old index stays whole until the new one is in place
                old = folder.with_name(f".{folder.name}-old-{time.time_ns()}")
                folder.rename(old)
            tmp.rename(folder)
            if old:
                shutil.rmtree(old, ignore_errors=True)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return folder

    @classmethod
    def load(cls, folder: str | Path, embedder: Embedder | str | None = None) -> "RagIndex":
        """Load a saved index. `embedder` (optional) must match the one it was built with."""
        folder = Path(folder).expanduser()
        meta_path = folder / "meta.json"
        if not meta_path.exists():
            raise LabError("rag.not_index_folder", path=str(folder))
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            config = BuildConfig(**meta["config"])
            saved = meta["embedder"]
        except (ValueError, KeyError, TypeError) as exc:
            raise LabError("rag.corrupt_index", path=str(folder), reason=str(exc)[:200]) from exc
        if meta.get("format") != FORMAT:
            raise LabError("rag.corrupt_index", path=str(folder), reason=f"format {meta.get('format')} != {FORMAT}")
        if isinstance(embedder, str):
            from apps.models.registry import resolve

            if resolve(embedder).name != saved["name"]:
                raise LabError("rag.embedder_mismatch", path=str(folder), saved=saved["name"], given=embedder)
            embedder = None
        embedder = embedder or Embedder(saved["name"])
        if embedder.identity["name"] != saved["name"] or embedder.identity["dim"] != saved["dim"]:
            raise LabError("rag.embedder_mismatch", path=str(folder), saved=saved["name"], given=embedder.name)
        try:
            chunks = [Chunk(**json.loads(line)) for line in
                      (folder / "chunks.jsonl").read_text(encoding="utf-8").splitlines() if line]
            vectors = np.load(folder / "vectors.npy")
            vindex = VectorIndex.load(str(folder / "index.faiss"), meta["index"]["kind"], meta["index"]["params"])
            docs_path = folder / "documents.json"
            documents = json.loads(docs_path.read_text(encoding="utf-8")) if docs_path.exists() else {}
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise LabError("rag.corrupt_index", path=str(folder), reason=str(exc)[:200]) from exc
        if len(chunks) != vindex.ntotal or vectors.shape != (len(chunks), saved["dim"]):
            raise LabError("rag.corrupt_index", path=str(folder), reason="chunk and vector counts differ")
        return cls(chunks, vectors, vindex, embedder, config, documents)

    # ---- searching ------------------------------------------------------------------------
    def search(self, query: str, k: int = 5, mode: str = DEFAULT_MODE, rerank_with: str | None = None,
               pool: int = 50, dense_weight: float | None = None, rrf_k: int | None = None,
               with_vector: bool = False, cjk_dense_weight: float | None = None,
               query_vector: np.ndarray | None = None) -> SearchResult:
        """Top-k chunks for `query`. mode: dense | lexical | hybrid. rerank_with: None, "coverage"
        (built in, offline) or a cross-encoder model id. pool: candidates taken from each retriever.
        with_vector: embed the query even in lexical mode (to place it on the 2-D map).
        rrf_k (default RRF_K) and cjk_dense_weight (see Embedder.weight_for) tune hybrid fusion.
        query_vector: float32 (dim,), the query already embedded (evaluate embeds all questions in one batch)."""
        if not query or not query.strip():
            raise LabError("rag.empty_query")
        if mode not in MODES:
            raise LabError("rag.bad_mode", mode=mode, choices=", ".join(MODES))
        timings = {"embed": 0.0, "search": 0.0, "rerank": 0.0}
        pool = max(pool, k)
        dense: dict[int, float] = {}
        lexical: dict[int, float] = {}
        qvec = None
        if mode in ("dense", "hybrid") or with_vector:
            t0 = time.perf_counter()
            qvec = self.embedder.encode_query(query) if query_vector is None else query_vector.reshape(1, -1)
            timings["embed"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        if mode in ("dense", "hybrid"):
            scores, ids = self.vindex.search(qvec, pool)
            dense = {int(i): float(s) for s, i in zip(scores[0], ids[0]) if i >= 0}
        if mode in ("lexical", "hybrid"):
            lexical = dict(self.bm25.top(query, pool))
        if mode == "hybrid":
            if dense_weight is None:
                dense_weight = self.embedder.weight_for(query, cjk_dense_weight)
            first = rrf([list(lexical), list(dense)], [1.0, dense_weight], k0=RRF_K if rrf_k is None else rrf_k)
        else:
            first = dense if mode == "dense" else lexical
        ranked = sorted(first.items(), key=lambda kv: -kv[1])
        timings["search"] = time.perf_counter() - t0
        if rerank_with and ranked:
            t0 = time.perf_counter()
            candidates = [i for i, _ in ranked[:pool]]
            texts = [c.text for c in self.chunks]
            if rerank_with == "coverage":
                ranked = rerank(query, candidates, texts, self.bm25, dict(ranked))
            else:
                ranked = cross_encoder_rerank(rerank_with, query, candidates, texts)
            timings["rerank"] = time.perf_counter() - t0
        hits = [Hit(self.chunks[i], score, r + 1, dense.get(i), lexical.get(i)) for r, (i, score) in enumerate(ranked[:k])]
        return SearchResult(query, mode, hits, timings, qvec[0] if qvec is not None else None)

    def info(self) -> dict:
        return {"chunks": len(self.chunks), "sources": len({c.source for c in self.chunks}),
                "dim": self.vindex.dim, "index": self.vindex.kind, "params": self.vindex.params,
                "embedder": self.embedder.identity, "config": asdict(self.config)}
