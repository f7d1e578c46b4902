"""FAISS vector indexes over normalised embeddings: exact inner product, HNSW and IVF.

    vi = VectorIndex.build(vectors, kind="hnsw")   # vectors: float32 (n, dim), L2-normalised
    scores, ids = vi.search(queries, k=5)          # both (n_queries, k); ids -1 where fewer than k

- flat: exhaustive inner product, the exact answer every other index is measured against.
- hnsw: a navigable small-world graph (M links per node); efSearch trades recall for speed.
- ivf:  k-means cells (nlist ≈ 4·√n); a query scans the nprobe nearest cells only. Needs training,
        and with very few vectors it falls back to fewer cells so k-means has data to learn from.
"""
from __future__ import annotations

import math

import faiss
import numpy as np

from apps.errors import LabError

KINDS = ("flat", "hnsw", "ivf")


class VectorIndex:
    def __init__(self, index: faiss.Index, kind: str, params: dict):
        self.index, self.kind, self.params = index, kind, params

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    @property
    def dim(self) -> int:
        return int(self.index.d)

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str = "flat", hnsw_m: int = 32, ef_construction: int = 80,
              ef_search: int = 64, nlist: int | None = None, nprobe: int | None = None) -> "VectorIndex":
        if kind not in KINDS:
            raise LabError("rag.bad_index_type", kind=kind, choices=", ".join(KINDS))
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n, dim = vectors.shape
        if kind == "flat":
            index, params = faiss.IndexFlatIP(dim), {}
        elif kind == "hnsw":
            index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = ef_construction
            index.hnsw.efSearch = ef_search
            params = {"M": hnsw_m, "efConstruction": ef_construction, "efSearch": ef_search}
        else:
            # faiss wants ~39 training points per centroid; small corpora get fewer, fatter cells.
            nlist = nlist or max(1, int(4 * math.sqrt(n)))
            nlist = max(1, min(nlist, n // 39 if n >= 39 else 1))
            nprobe = nprobe or max(1, min(nlist, int(math.ceil(nlist / 8))))
            quantizer = faiss.IndexFlatIP(dim)
            index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
            index.train(vectors)
            index.nprobe = nprobe
            params = {"nlist": nlist, "nprobe": nprobe}
        if n:
            index.add(vectors)
        return cls(index, kind, params)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Inner-product scores float32 (nq, k) and chunk ids int64 (nq, k), best first."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if queries.shape[1] != self.dim:
            raise LabError("rag.dim_mismatch", got=queries.shape[1], want=self.dim)
        k = max(1, min(k, self.ntotal))
        return self.index.search(queries, k)

    def set_search_params(self, ef_search: int | None = None, nprobe: int | None = None) -> None:
        if self.kind == "hnsw" and ef_search:
            self.index.hnsw.efSearch = ef_search
            self.params["efSearch"] = ef_search
        if self.kind == "ivf" and nprobe:
            self.index.nprobe = nprobe
            self.params["nprobe"] = nprobe

    def save(self, path: str) -> None:
        faiss.write_index(self.index, path)

    @classmethod
    def load(cls, path: str, kind: str, params: dict) -> "VectorIndex":
        index = faiss.read_index(path)
        instance = cls(index, kind, dict(params))
        instance.set_search_params(params.get("efSearch"), params.get("nprobe"))
        return instance
