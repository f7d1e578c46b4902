"""Pictures of a RAG index: a 2-D PCA map of chunk embeddings with the query placed, a latency bar.

Plain numpy + matplotlib (no gradio): the tab hands the figures to gr.Plot, notebooks show them as is.

    coords, q = pca_2d(index.vectors, result.query_vector)   # (n, 2), (2,)
    fig = map_figure(coords, [c.source for c in index.chunks], q, hit_ids=[h.chunk.id for h in hits])
"""
from __future__ import annotations

import numpy as np


def pca_2d(vectors: np.ndarray, query: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Project float32 (n, dim) vectors onto their top two principal axes → (n, 2); the query (dim,)
    goes through the same projection (fitted on the chunks only, so the map does not move per query)."""
    vectors = np.asarray(vectors, dtype=np.float64)
    if len(vectors) == 0:
        return np.zeros((0, 2)), None
    mean = vectors.mean(axis=0)
    centered = vectors - mean
    if len(vectors) < 3:
        axes = np.eye(vectors.shape[1])[:2]
    else:
        # SVD of the centred data: rows of vt are the principal directions, strongest first.
        _, _, vt = np.linalg.svd(centered, full_matrices=False)
        axes = vt[:2]
        if axes.shape[0] < 2:
            axes = np.vstack([axes, np.zeros_like(axes)])
    coords = centered @ axes.T
    q = (np.asarray(query, dtype=np.float64) - mean) @ axes.T if query is not None else None
    return coords, q


def caption_lang(lang: str) -> str:
    """The language plot captions should use: Chinese only when a font can draw it."""
    from apps.plotting import caption_lang as pick  # matplotlib loads only when a figure is wanted

    return pick(lang)


def _style():
    from apps.plotting import style

    return style()


def _short(source: str) -> str:
    return source.replace("\\", "/").rsplit("/", 1)[-1]


def map_figure(coords: np.ndarray, sources: list[str], query_xy: np.ndarray | None = None,
               hit_ids: list[int] | None = None, title: str = "", query_label: str = "query"):
    """Scatter of chunks coloured by source file; retrieved chunks ringed and numbered; the query a star."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with _style():
        return _map(plt, coords, sources, query_xy, hit_ids, title, query_label)


def _map(plt, coords, sources, query_xy, hit_ids, title, query_label):
    names = sorted(set(sources))
    legend = len(names) <= 16
    # the legend sits right of the axes (a wider figure), never over the points
    fig, ax = plt.subplots(figsize=(9.5 if legend else 7, 5), dpi=100)
    cmap = plt.get_cmap("tab20" if len(names) > 10 else "tab10")
    src = np.array(sources)
    for n, name in enumerate(names):
        mask = src == name
        ax.scatter(coords[mask, 0], coords[mask, 1], s=14, alpha=0.65, color=cmap(n % cmap.N), label=_short(name))
    for rank, i in enumerate(hit_ids or [], 1):
        ax.scatter(coords[i, 0], coords[i, 1], s=120, facecolors="none", edgecolors="black", linewidths=1.4)
        ax.annotate(str(rank), coords[i], textcoords="offset points", xytext=(5, 5), fontsize=9, weight="bold")
    if query_xy is not None:
        ax.scatter([query_xy[0]], [query_xy[1]], marker="*", s=320, color="red", edgecolors="black",
                   zorder=5, label=query_label)
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    if title:
        ax.set_title(title)
    if legend:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, frameon=False)
    fig.tight_layout()
    plt.close(fig)
    return fig


def latency_figure(timings: dict[str, float], labels: dict[str, str] | None = None, title: str = ""):
    """Horizontal bar per stage (seconds → milliseconds on the axis)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with _style():
        return _latency(plt, timings, labels or {}, title)


def _latency(plt, timings, labels, title):
    stages = [s for s in timings if timings[s] is not None]
    values = [timings[s] * 1000 for s in stages]
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(stages) + 1.0), dpi=100)
    bars = ax.barh([labels.get(s, s) for s in stages], values, color="#4C72B0")
    for bar, value in zip(bars, values):
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {value:,.1f} ms", va="center", fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel("ms")
    ax.set_xlim(0, max(values + [1.0]) * 1.3)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    plt.close(fig)
    return fig
