"""Quantisation & inference tab: one matrix by hand, a whole model measured, GGUF types, inference tricks.

Wiring only: the work is in apps.quantize.byhand / measure / gguf_types / tricks / plots. Models are
picked from the registry (no free-form paths); heavy handlers share one concurrency slot.
"""
from __future__ import annotations

import gradio as gr
import pandas as pd

from apps import ui
from apps.errors import LabError
from apps.i18n import DEFAULT_LANG, t
from apps.models import registry
from apps.plotting import caption_lang
from apps.quantize import byhand, gguf_types, plots, tricks
from apps.quantize.measure import DEFAULT_TEXT, compare
from apps.quantize.methods import METHODS

L = DEFAULT_LANG
DEFAULT_WEIGHT = "model.layers.0.mlp.down_proj.weight"
HEAVY = dict(concurrency_id="quantize-heavy", concurrency_limit=1)
STEPS = {"load": 0.05, "quantize": 0.15, "baseline": 0.25, "quantized": 0.55, "samples": 0.85}


def generative_models() -> list[str]:
    return [n for n in registry.names() if n not in registry.names(registry.EMBEDDING)]


def _model(name: str) -> str:
    """Only registry models (and their +int8 / +int4 forms) — a request cannot name a path."""
    base, _ = registry.split_quant(name or "")
    if base not in registry.REGISTRY:
        raise LabError("models.unknown", name=name, choices=", ".join(generative_models()))
    spec = registry.REGISTRY[base]
    if spec.kind == registry.EMBEDDING:
        raise LabError("quantize.embedding_model", name=base)
    return name


def _labels(lang: str, **keys) -> dict:
    return {k: t(f"quantize.plot.{v}", lang) for k, v in keys.items()}


def _cols(lang: str, *keys) -> list[str]:
    return [t(f"quantize.col.{k}", lang) for k in keys]


BYHAND_COLS = ("label", "mse", "max_err", "levels", "zero", "scales")
WHOLE_COLS = ("model", "size_mb", "disk_mb", "ppl", "tps")
SIDE_COLS = ("prompt", "original_out", "quantized_out", "same")
GGUF_COLS = ("type", "tensors", "mb", "bpw", "examples", "meaning")
ATTN_COLS = ("tokens", "sdpa", "eager", "diff")


def _table(rows: list, lang: str, *keys, headers: list[str] | None = None) -> pd.DataFrame:
    """A result table with headers in `lang` (shown even while it is empty)."""
    return pd.DataFrame(rows, columns=headers or _cols(lang, *keys))


def whole_view(kept: dict, lang: str) -> tuple:
    """(summary, table, ratio plot, side-by-side answers) of measure.compare's result in `lang`."""
    r, method = kept["r"], kept["method"]
    b, q, x = r["baseline"], r["quantized"], r["ratios"]
    table = [[r["model"], b["size_mb"], b["disk_mb"], b["perplexity"], b["tokens_per_s"]],
             [f"{r['model']}+{method}", q["size_mb"], q["disk_mb"], q["perplexity"], q["tokens_per_s"]]]
    summary = t("quantize.whole_summary", lang, model=r["model"], method=method, size=x["size"],
                ppl=x["perplexity"], speed=x["tokens_per_s"])
    done = t("quantize.step.done", lang, seconds=b["seconds"] + q["seconds"] + r["quantize_seconds"])
    fig = plots.ratios(r, _labels(caption_lang(lang), size="size", ppl="ppl", speed="speed", ratio="ratio"))
    side = [[s["prompt"], s["baseline"], s["quantized"], f"{s['same_prefix_tokens']}/{s['tokens']}"]
            for s in r.get("samples", [])]
    return (f"{summary}\n\n{done}", _table(table, lang, *WHOLE_COLS), fig,
            _table(side, lang, headers=[t("quantize.col.prompt", lang), r["model"], f"+{method}", t("quantize.col.same", lang)]))


def gguf_view(s: dict, lang: str) -> tuple:
    """(summary, table, plot) of gguf_types.summary in `lang`."""
    rows = [[x["type"], x["tensors"], round(x["bytes"] / 2**20, 2), x["bits_per_weight"], ", ".join(x["examples"]),
             t(f"quantize.gguf.{x['type']}" if x["explained"] else "quantize.gguf.other", lang)] for x in s["types"]]
    md = t("quantize.gguf_summary", lang, file=s["file"], tensors=s["tensor_count"], mb=s["file_mb"],
           bits=s["bits_per_weight"], fp32=s["fp32_mb"])
    return md, _table(rows, lang, *GGUF_COLS), plots.gguf_types(s, _labels(caption_lang(lang), mb="mb"))


def tricks_view(kept: dict, lang: str) -> tuple:
    """(text, plot) of the last inference trick measured: kv cache speed, kv cache size or prompt lookup."""
    r, pl = kept["r"], caption_lang(lang)
    same = lambda flag: t("quantize.same" if flag else "quantize.different", lang)  # noqa: E731
    if kept["kind"] == "kv":
        md = t("quantize.kv_summary", lang, on=r["with_cache_tokens_per_s"], off=r["without_cache_tokens_per_s"],
               speedup=r["speedup"], same=same(r["same_output"]))
        return md, plots.kv_speed(r, _labels(pl, **{"with": "with_cache", "without": "without_cache", "length": "length",
                                                    "ms": "ms"}))
    if kept["kind"] == "kvsize":
        md = t("quantize.kvsize_summary", lang, layers=r["layers"], heads=r["heads"], kv_heads=r["kv_heads"],
               group=r["group"], head_dim=r["head_dim"], tokens=kept["tokens"], measured=kept["measured"],
               formula=kept["formula"])
        return md, plots.kv_size(r, _labels(pl, tokens="tokens", mb="cache_mb"))
    return t("quantize.lookup_summary", lang, proposed=r["proposed"], accepted=r["accepted"], rate=r["acceptance_rate"],
             passes=r["forward_passes"], plain=r["plain_forward_passes"], lookup_s=r["lookup_s"], plain_s=r["plain_s"],
             speedup=r["speedup"], hf_speedup=r["hf_speedup"], text=r["text"].replace("\n", " "),
             same=same(r["same_output"])), gr.update()


def attn_view(r: dict, lang: str):
    rows = [[x["tokens"], x["sdpa_ms"], x["eager_ms"], f"{x['max_logit_diff']:.2e}"] for x in r["rows"]]
    return _table(rows, lang, *ATTN_COLS)


def build(ctx: ui.ShellContext) -> dict:
    c: dict[str, gr.components.Component] = {}
    c["quantize.intro"] = gr.Markdown(t("quantize.intro", L))
    c["quantize.model"] = gr.Dropdown(generative_models(), value="smollm2-135m-instruct", elem_id="q-model",
                                      **ui.texts("quantize.model", L))

    with gr.Accordion(t("quantize.byhand", L), open=True) as acc:
        c["quantize.byhand"] = acc
        c["quantize.byhand_md"] = gr.Markdown(t("quantize.byhand_md", L))
        with gr.Row():
            c["quantize.weight"] = gr.Textbox(DEFAULT_WEIGHT, elem_id="q-weight", scale=2, **ui.texts("quantize.weight", L))
            c["quantize.scheme"] = gr.Radio(list(byhand.SCHEMES), value="absmax", elem_id="q-scheme", **ui.texts("quantize.scheme", L))
            c["quantize.bits"] = gr.Radio([8, 4], value=4, elem_id="q-bits", **ui.texts("quantize.bits", L))
        with gr.Row():
            c["quantize.granularity"] = gr.Radio(list(byhand.GRANULARITIES), value="tensor", elem_id="q-gran",
                                                 **ui.texts("quantize.granularity", L))
            c["quantize.group_size"] = gr.Dropdown([16, 32, 64, 128], value=32, elem_id="q-group",
                                                   **ui.texts("quantize.group_size", L))
            c["quantize.outlier"] = gr.Slider(1, 100, value=20, step=1, elem_id="q-outlier", **ui.texts("quantize.outlier", L))
            c["quantize.byhand_run"] = gr.Button(t("quantize.byhand_run", L), variant="primary", elem_id="q-byhand-run")
        byhand_md = gr.Markdown("", elem_id="q-byhand-summary")
        with gr.Row():
            c["quantize.hist"] = gr.Plot(elem_id="q-hist", **ui.texts("quantize.hist", L))
            c["quantize.outlier_plot"] = gr.Plot(elem_id="q-outlier-plot", **ui.texts("quantize.outlier_plot", L))
        c["quantize.byhand_table"] = gr.Dataframe(_table([], L, *BYHAND_COLS), elem_id="q-byhand-table", interactive=False,
                                                  **ui.texts("quantize.byhand_table", L))

    with gr.Accordion(t("quantize.whole", L), open=False) as acc:
        c["quantize.whole"] = acc
        c["quantize.whole_md"] = gr.Markdown(t("quantize.whole_md", L))
        with gr.Row():
            c["quantize.method"] = gr.Radio(list(METHODS), value="int8", elem_id="q-method", **ui.texts("quantize.method", L))
            c["quantize.samples"] = gr.Slider(0, 3, value=2, step=1, elem_id="q-samples", **ui.texts("quantize.samples", L))
            c["quantize.whole_run"] = gr.Button(t("quantize.whole_run", L), variant="primary", elem_id="q-whole-run")
        c["quantize.eval_text"] = gr.Textbox(DEFAULT_TEXT.read_text(encoding="utf-8"), lines=4, max_lines=8,
                                             elem_id="q-eval-text", **ui.texts("quantize.eval_text", L))
        whole_md = gr.Markdown("", elem_id="q-whole-summary")
        with gr.Row():
            c["quantize.whole_table"] = gr.Dataframe(_table([], L, *WHOLE_COLS), elem_id="q-whole-table", interactive=False, scale=2,
                                                     **ui.texts("quantize.whole_table", L))
            c["quantize.whole_plot"] = gr.Plot(elem_id="q-whole-plot", **ui.texts("quantize.whole_plot", L))
        c["quantize.side_by_side"] = gr.Dataframe(_table([], L, *SIDE_COLS), elem_id="q-side", interactive=False, wrap=True,
                                                  **ui.texts("quantize.side_by_side", L))

    with gr.Accordion(t("quantize.gguf", L), open=False) as acc:
        c["quantize.gguf"] = acc
        c["quantize.gguf_run"] = gr.Button(t("quantize.gguf_run", L), elem_id="q-gguf-run")
        gguf_md = gr.Markdown("", elem_id="q-gguf-summary")
        with gr.Row():
            c["quantize.gguf_table"] = gr.Dataframe(_table([], L, *GGUF_COLS), elem_id="q-gguf-table", interactive=False, wrap=True, scale=2,
                                                    **ui.texts("quantize.gguf_table", L))
            c["quantize.gguf_plot"] = gr.Plot(elem_id="q-gguf-plot", **ui.texts("quantize.gguf_plot", L))

    with gr.Accordion(t("quantize.tricks", L), open=False) as acc:
        c["quantize.tricks"] = acc
        with gr.Row():
            c["quantize.kv_run"] = gr.Button(t("quantize.kv_run", L), elem_id="q-kv-run")
            c["quantize.kvsize_run"] = gr.Button(t("quantize.kvsize_run", L), elem_id="q-kvsize-run")
            c["quantize.lookup_run"] = gr.Button(t("quantize.lookup_run", L), elem_id="q-lookup-run")
            c["quantize.attn_run"] = gr.Button(t("quantize.attn_run", L), elem_id="q-attn-run")
        tricks_md = gr.Markdown("", elem_id="q-tricks-summary")
        c["quantize.tricks_out"] = gr.Plot(elem_id="q-tricks-plot", **ui.texts("quantize.tricks_out", L))
        c["quantize.attn_table"] = gr.Dataframe(_table([], L, *ATTN_COLS), elem_id="q-attn-table", interactive=False,
                                                **ui.texts("quantize.attn_table", L))

    # Each section keeps what it measured, language-neutral, in a gr.State and draws it with a
    # *_view(…, lang) function, so a language switch redraws the results on screen (ctx.rerender).
    byhand_args, whole_out, gguf_out, tricks_out, attn_out = (gr.State(None) for _ in range(5))

    def byhand_view(args, lang):
        """By hand is cheap to redo: the state keeps its arguments and the view recomputes."""
        model, weight_name, scheme, bits, gran, group, factor = args
        lm = ctx.cache.get(_model(model))
        w = byhand.weight(lm.model, (weight_name or "").strip())
        rt = byhand.roundtrip(w, scheme, int(bits), gran, int(group))
        pl = caption_lang(lang)
        summary = t("quantize.byhand_summary", lang, weight=weight_name, rows=w.shape[0], cols=w.shape[1],
                    label=rt.label, mse=rt.mse, max_err=rt.max_err, levels=rt.levels_used, zero=rt.zero_fraction)
        hist = plots.histogram(w.numpy(), rt.dequantized.numpy(), rt.label,
                               _labels(pl, before="before", after="after", value="value", count="count"))
        demo = byhand.outlier_demo(w, float(factor), int(bits), int(group))
        out_fig = plots.outliers(demo, _labels(pl, before="mse_before", after="mse_after", mse="mse_other"))
        rows = [[r["label"], f"{r['mse']:.3e}", f"{r['max_err']:.3e}", r["levels_used"] if r["levels_used"] is not None else "–",
                 f"{r['zero_fraction']:.2%}" if r["zero_fraction"] is not None else "–", r["scales"]]
                for r in byhand.compare(w, int(group))]
        return summary, hist, out_fig, _table(rows, lang, *BYHAND_COLS)

    @ui.friendly
    def on_byhand(model, weight_name, scheme, bits, gran, group, factor, lang):
        args = (model, weight_name, scheme, bits, gran, group, factor)
        return args, *byhand_view(args, lang)

    c["quantize.byhand_run"].click(
        on_byhand, [c["quantize.model"], c["quantize.weight"], c["quantize.scheme"], c["quantize.bits"],
                    c["quantize.granularity"], c["quantize.group_size"], c["quantize.outlier"], ctx.lang],
        [byhand_args, byhand_md, c["quantize.hist"], c["quantize.outlier_plot"], c["quantize.byhand_table"]], **HEAVY)

    @ui.friendly
    def on_whole(model, method, samples, text, lang, progress=gr.Progress()):
        model = _model(model)
        say = lambda step: progress(STEPS.get(step, 0.5), desc=t(f"quantize.step.{step}", lang))  # noqa: E731
        r = compare(model, method, eval_text=text or "", cache=ctx.cache, samples=int(samples), progress=say)
        kept = {"r": r, "method": method}
        return kept, *whole_view(kept, lang)

    c["quantize.whole_run"].click(
        on_whole, [c["quantize.model"], c["quantize.method"], c["quantize.samples"], c["quantize.eval_text"], ctx.lang],
        [whole_out, whole_md, c["quantize.whole_table"], c["quantize.whole_plot"], c["quantize.side_by_side"]], **HEAVY)

    @ui.friendly
    def on_gguf(model, lang):
        s = gguf_types.summary(registry.split_quant(_model(model))[0])
        return s, *gguf_view(s, lang)

    c["quantize.gguf_run"].click(on_gguf, [c["quantize.model"], ctx.lang],
                                 [gguf_out, gguf_md, c["quantize.gguf_table"], c["quantize.gguf_plot"]], **HEAVY)

    @ui.friendly
    def on_kv(model, lang):
        kept = {"kind": "kv", "r": tricks.kv_cache_speed(ctx.cache.get(_model(model)), new_tokens=32)}
        return kept, *tricks_view(kept, lang)

    @ui.friendly
    def on_kvsize(model, lang):
        lm = ctx.cache.get(_model(model))
        n = 64
        kept = {"kind": "kvsize", "r": tricks.kv_cache_size(lm.model.config), "tokens": n,
                "measured": tricks.measured_kv_bytes(lm, n),
                "formula": tricks.kv_cache_size(lm.model.config, (n,), dtype_bytes=lm.model.dtype.itemsize)["rows"][0]["gqa_bytes"]}
        return kept, *tricks_view(kept, lang)

    @ui.friendly
    def on_lookup(model, lang):
        kept = {"kind": "lookup", "r": tricks.prompt_lookup(ctx.cache.get(_model(model)), max_new_tokens=64)}
        return kept, *tricks_view(kept, lang)

    for key, fn in (("kv_run", on_kv), ("kvsize_run", on_kvsize), ("lookup_run", on_lookup)):
        c[f"quantize.{key}"].click(fn, [c["quantize.model"], ctx.lang], [tricks_out, tricks_md, c["quantize.tricks_out"]],
                                   **HEAVY)

    @ui.friendly
    def on_attn(model, lang):
        r = tricks.attention_speed(ctx.cache, registry.split_quant(_model(model))[0])
        return r, attn_view(r, lang)

    c["quantize.attn_run"].click(on_attn, [c["quantize.model"], ctx.lang], [attn_out, c["quantize.attn_table"]], **HEAVY)

    def redraw(lang, args, whole, gguf, trick, attn):
        keep = gr.update()
        return [*(byhand_view(args, lang) if args else (keep, keep, keep, _table([], lang, *BYHAND_COLS))),
                *(whole_view(whole, lang) if whole else (keep, _table([], lang, *WHOLE_COLS), keep,
                                                         _table([], lang, *SIDE_COLS))),
                *(gguf_view(gguf, lang) if gguf else (keep, _table([], lang, *GGUF_COLS), keep)),
                *(tricks_view(trick, lang) if trick else (keep, keep)),
                attn_view(attn, lang) if attn else _table([], lang, *ATTN_COLS)]

    ctx.rerender(redraw, [byhand_args, whole_out, gguf_out, tricks_out, attn_out],
                 [byhand_md, c["quantize.hist"], c["quantize.outlier_plot"], c["quantize.byhand_table"],
                  whole_md, c["quantize.whole_table"], c["quantize.whole_plot"], c["quantize.side_by_side"],
                  gguf_md, c["quantize.gguf_table"], c["quantize.gguf_plot"], tricks_md, c["quantize.tricks_out"],
                  c["quantize.attn_table"]])
    return c
