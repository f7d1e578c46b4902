"""Matplotlib figures of the Quantisation tab. Each takes plain numbers and already-translated
captions (`labels`, a dict) and returns a Figure with numeric, labelled axes."""
from __future__ import annotations

import numpy as np

from apps.plotting import plt, style


def _style():
    return style(**{"font.size": 9})


def histogram(before: np.ndarray, after: np.ndarray, title: str, labels: dict):
    """Weights before/after a round-trip, same bins: after quantisation the values pile onto a grid."""
    lim = float(max(np.abs(before).max(), np.abs(after).max())) or 1.0
    bins = np.linspace(-lim, lim, 121)
    with _style():
        fig, ax = plt.subplots(figsize=(7.5, 3.4), dpi=100)
        ax.hist(before.ravel(), bins=bins, alpha=0.55, label=labels["before"], color="#4477aa")
        ax.hist(after.ravel(), bins=bins, alpha=0.55, label=labels["after"], color="#ee6677", histtype="stepfilled")
        ax.set_yscale("log")
        ax.set_xlabel(labels["value"])
        ax.set_ylabel(labels["count"])
        ax.set_title(title)
        ax.legend()
        fig.tight_layout()
    return fig


def outliers(demo: dict, labels: dict):
    """MSE of the other weights per granularity, before and after one weight is made an outlier."""
    rows = demo["rows"]
    x = np.arange(len(rows))
    with _style():
        fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
        ax.bar(x - 0.2, [r["mse_before"] for r in rows], 0.4, label=labels["before"], color="#4477aa")
        ax.bar(x + 0.2, [r["mse_after"] for r in rows], 0.4, label=labels["after"], color="#ee6677")
        ax.set_xticks(x, [r["granularity"] for r in rows])
        ax.set_yscale("log")
        ax.set_ylabel(labels["mse"])
        ax.set_title(f"×{demo['factor']:g} outlier, int{demo['bits']} absmax")
        ax.legend()
        fig.tight_layout()
    return fig


def ratios(report: dict, labels: dict):
    """Quantised / original for size, perplexity and decode speed; the line at 1 is the original."""
    keys = [("size", labels["size"]), ("perplexity", labels["ppl"]), ("tokens_per_s", labels["speed"])]
    values = [report["ratios"][k] for k, _ in keys]
    with _style():
        fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
        bars = ax.bar([name for _, name in keys], values, color=["#228833", "#ccbb44", "#4477aa"])
        ax.axhline(1.0, color="#333", linewidth=1, linestyle="--")
        ax.set_ylim(0, max(values + [1.0]) * 1.18)  # room for the value labels under the title
        for bar, v in zip(bars, values):
            ax.text(bar.get_x() + bar.get_width() / 2, v, f"×{v:.2f}", ha="center", va="bottom")
        ax.set_ylabel(labels["ratio"])
        ax.set_title(f"{report['model']} → {report['method']}")
        fig.tight_layout()
    return fig


def gguf_types(summary: dict, labels: dict):
    types = summary["types"]
    with _style():
        fig, ax = plt.subplots(figsize=(6, 3.0), dpi=100)
        mb = [t["bytes"] / 2**20 for t in types]
        bars = ax.bar([t["type"] for t in types], mb, color="#66ccee")
        for bar, t in zip(bars, types):
            ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height(), f"{t['bits_per_weight']:g} b/w",
                    ha="center", va="bottom")
        ax.set_ylabel(labels["mb"])
        ax.set_title(summary["file"])
        fig.tight_layout()
    return fig


def kv_speed(result: dict, labels: dict):
    """ms per decoding step against the sequence length, with and without the KV cache."""
    with _style():
        fig, ax = plt.subplots(figsize=(7, 3.4), dpi=100)
        x = result["lengths"][1:]  # step 0 is the prompt's prefill in both runs
        ax.plot(x, result["with_cache_ms"][1:], label=labels["with"], color="#228833")
        ax.plot(x, result["without_cache_ms"][1:], label=labels["without"], color="#ee6677")
        ax.set_xlabel(labels["length"])
        ax.set_ylabel(labels["ms"])
        ax.set_ylim(bottom=0)
        ax.legend()
        fig.tight_layout()
    return fig


def kv_size(result: dict, labels: dict):
    rows = result["rows"]
    tokens = [r["tokens"] for r in rows]
    with _style():
        fig, ax = plt.subplots(figsize=(7, 3.4), dpi=100)
        for key, name, color in (("mha_bytes", f"MHA ({result['heads']} K/V)", "#ee6677"),
                                 ("gqa_bytes", f"GQA ({result['kv_heads']} K/V)", "#228833"),
                                 ("mqa_bytes", "MQA (1 K/V)", "#4477aa")):
            ax.plot(tokens, [r[key] / 2**20 for r in rows], marker="o", label=name, color=color)
        ax.set_xlabel(labels["tokens"])
        ax.set_ylabel(labels["mb"])
        ax.legend()
        fig.tight_layout()
    return fig
