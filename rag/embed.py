"""Sentence embeddings through sentence-transformers, batched and cached on disk by content hash.

    emb = Embedder("all-minilm-l6-v2")            # a registry name, a local folder or a hub id
    vecs = emb.encode(["chunk one", "chunk two"])  # float32 (n, dim), L2-normalised

Vectors are normalised, so inner product == cosine similarity (what the FAISS indexes search).
The cache lives in `$LLMLAB_HOME/rag/embeddings/<embedder key>/<sha256[:2]>/<sha256>.npy`: building a
second index over the same text (other index type, other k) embeds nothing again.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from apps.errors import LabError

DEFAULT_EMBEDDER = "all-minilm-l6-v2"
# Embedders trained on English only. Their vectors for Chinese text carry little meaning (all-MiniLM
# found the right chunk for 16% of our Chinese questions, BM25 for 96%), so in hybrid search their
# ranking only breaks near-ties for Chinese queries instead of pulling good lexical hits down.
ENGLISH_ONLY = ("all-minilm", "all-mpnet", "all-distilroberta", "msmarco", "multi-qa-minilm", "multi-qa-mpnet")
ENGLISH_ONLY_ON_CJK = 0.1
CJK_QUERY = 0.3  # a query with more than this share of Chinese characters counts as Chinese
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def cjk_share(text: str) -> float:
    """Share of non-space characters that are Chinese (0..1)."""
    chars = [c for c in text if not c.isspace()]
    return sum(1 for c in chars if _CJK.match(c)) / len(chars) if chars else 0.0


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_embedder(name: str):
    """The ModelSpec of an embedder, refused before anything loads if the registry (or a local
    folder's files) says it is a chat or base model. Hub ids cannot be told apart offline: allowed."""
    from apps.models.registry import EMBEDDING, names, resolve

    spec = resolve(name)
    if spec.kind != EMBEDDING and spec.source != "hub":
        raise LabError("rag.not_embedder", name=spec.name, choices=", ".join(names(EMBEDDING)))
    return spec


class Embedder:
    """A sentence-transformers model with a disk cache. `identity` names it inside saved indexes."""

    def __init__(self, name: str = DEFAULT_EMBEDDER, cache=None, batch_size: int = 32,
                 cache_dir: str | Path | None = None):
        from apps.models import default_cache
        from apps.storage import lab_home

        spec = check_embedder(name)
        self.name = spec.name
        self.lm = (cache or default_cache()).get(spec.name, variant="st")
        self.model = self.lm.model
        self.batch_size = batch_size
        dim = self.model.get_embedding_dimension() if hasattr(
            self.model, "get_embedding_dimension") else None
        self.dim = int(dim or self.model.encode(["x"]).shape[1])
        # The identity changes when the model does: a saved index remembers it and refuses others.
        self.identity = {"name": self.name, "source": spec.hub_id or self.lm.path, "dim": self.dim,
                         "max_seq_length": int(getattr(self.model, "max_seq_length", 0) or 0)}
        source = str(self.identity["source"]).lower()
        self.multilingual = not any(tag in source or tag in self.name.lower() for tag in ENGLISH_ONLY)
        slug = hashlib.sha256(repr(sorted(self.identity.items())).encode()).hexdigest()[:16]
        self.cache_dir = Path(cache_dir) if cache_dir else lab_home() / "rag" / "embeddings" / slug

    def weight_for(self, query: str, on_cjk: float | None = None) -> float:
        """Weight of this embedder's ranking in hybrid fusion for `query` (lexical has 1.0).
        on_cjk: the weight of an English-only embedder on a Chinese query (default ENGLISH_ONLY_ON_CJK)."""
        if not self.multilingual and cjk_share(query) > CJK_QUERY:
            return ENGLISH_ONLY_ON_CJK if on_cjk is None else on_cjk
        return 1.0

    def _path(self, key: str) -> Path:
        return self.cache_dir / key[:2] / f"{key}.npy"

    def _store(self, key: str, vec: np.ndarray) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                np.save(handle, vec)
            os.replace(tmp, path)  # atomic: a crash never leaves a torn vector behind
        except OSError:
            Path(tmp).unlink(missing_ok=True)

    def encode(self, texts: list[str], progress=None, use_cache: bool = True) -> np.ndarray:
        """float32 (len(texts), dim), L2-normalised. progress(done, total) is called per batch."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        todo: list[int] = []
        keys = [_key(t) for t in texts]
        for i, key in enumerate(keys):
            path = self._path(key)
            if use_cache and path.exists():
                try:
                    out[i] = np.load(path)
                    continue
                except (OSError, ValueError):
                    pass  # a damaged cache file is simply recomputed
            todo.append(i)
        done = len(texts) - len(todo)
        if progress:
            progress(done, len(texts))
        for s in range(0, len(todo), self.batch_size):
            batch = todo[s:s + self.batch_size]
            try:
                with self.lm.lock:
                    vecs = self.model.encode([texts[i] for i in batch], batch_size=self.batch_size,
                                             normalize_embeddings=True, convert_to_numpy=True,
                                             show_progress_bar=False)
            except Exception as exc:  # noqa: BLE001
                raise LabError("rag.embed_failed", name=self.name, reason=str(exc)[:200]) from exc
            for i, vec in zip(batch, vecs):
                out[i] = vec
                if use_cache:
                    self._store(keys[i], vec.astype(np.float32))
            done += len(batch)
            if progress:
                progress(done, len(texts))
        return out

    def encode_query(self, text: str) -> np.ndarray:
        """float32 (1, dim). Queries are not cached: they are short and rarely repeat exactly."""
        return self.encode([text], use_cache=False)
