"""A small scaling experiment: the same data and steps at three model sizes, final loss vs parameters.

    run_ids = submit(runner, cfg, owner="alice")        # nano, micro, tiny, queued one after another
    rows = points(run_ids, owner="alice")                # [{"preset", "params", "val_loss", "state", ...}]
    fig = figure(rows, lang)                             # matplotlib, log-scaled parameter axis

On a log axis of parameters, loss falls roughly on a line (a power law, Kaplan et al. 2020) until
data or steps run out; with a tiny corpus the larger models start to memorise, which shows as the
gap between training and validation loss.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from apps.pretrain import architecture
from apps.pretrain.config import PretrainConfig

SHAPE_FIELDS = ("n_layers", "d_model", "n_heads", "n_kv_heads", "d_ff", "batch_size", "learning_rate")


def configs(cfg: PretrainConfig) -> list[PretrainConfig]:
    """One config per scaling preset; everything but the size stays as the user chose (context
    included, so every model sees the same windows)."""
    reset = {name: None for name in SHAPE_FIELDS}
    return [replace(cfg, preset=name, label=f"{cfg.label or 'scaling'} · {name}", output="", resume=False, **reset)
            for name in architecture.SCALING]


def submit(runner, cfg: PretrainConfig, owner: str) -> list[str]:
    from apps.pretrain import jobs

    return [jobs.submit(runner, c, owner) for c in configs(cfg)]


def points(run_ids: list[str], owner: str, path: Path | None = None) -> list[dict]:
    from apps.pretrain import jobs

    rows = []
    for run_id in run_ids:
        info = jobs.status(run_id, owner, path)
        final = info["final"] or {}
        rows.append({"run_id": run_id, "preset": info["label"].rsplit("· ", 1)[-1], "state": info["state"],
                     "params": final.get("params") or info["params"], "val_loss": final.get("val_loss"),
                     "final_loss": final.get("final_loss")})
    return rows


def run_foreground(cfg: PretrainConfig) -> list[dict]:
    """The CLI's version: train the three sizes one after another into <output>/<preset>."""
    from apps.models.loading import pick_device
    from apps.pretrain import config as config_mod
    from apps.pretrain import train

    base = Path(cfg.output or "scaling").expanduser().resolve()
    rows = []
    for c in configs(cfg):
        c = config_mod.resolve(replace(c, output=str(base / c.preset)), pick_device(c.device))
        status = train.main(c, data=train.build_data(c))
        final = status.get("final", {})
        rows.append({"preset": c.preset, "state": status["state"], "params": final.get("params"),
                     "val_loss": final.get("val_loss"), "final_loss": final.get("final_loss"), "output": c.output})
    return rows


def figure(rows: list[dict], lang: str):
    """Final validation (and training) loss against parameters, parameters on a log axis."""
    from apps.i18n import t
    from apps.plotting import caption_lang, plt, style

    lang = caption_lang(lang)
    done = [r for r in rows if r.get("params") and r.get("val_loss") is not None]
    with style():
        fig, ax = plt.subplots(figsize=(6, 3.6))
        if done:
            xs = [r["params"] for r in done]
            ax.plot(xs, [r["val_loss"] for r in done], "o-", label=t("pretrain.curve.val", lang))
            if all(r.get("final_loss") is not None for r in done):
                ax.plot(xs, [r["final_loss"] for r in done], "s--", alpha=0.7, label=t("pretrain.curve.loss", lang))
            for r in done:
                ax.annotate(r["preset"], (r["params"], r["val_loss"]), textcoords="offset points", xytext=(4, 4))
            ax.legend()
        ax.set_xscale("log")
        ax.set_xlabel(t("pretrain.scaling.x", lang))
        ax.set_ylabel(t("pretrain.scaling.y", lang))
        ax.set_title(t("pretrain.scaling.title", lang))
        ax.grid(True, which="both", alpha=0.3)
        fig.tight_layout()
    return fig
