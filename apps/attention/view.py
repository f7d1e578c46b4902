"""Attention tab: bertviz views, heatmap and head summary, where a token looks, attention from scratch.

Wiring only: the work is in apps.attention.analysis / stats / plots / bertviz_page. The analysed
run (attention arrays of one text) lives in a gr.State, so each user pages and clicks through their
own result without recomputing the forward pass.
"""
from __future__ import annotations

import html

import gradio as gr
import numpy as np

from apps import ui
from apps.attention import assets, bertviz_page, plots, recipes
from apps.attention.analysis import Analysis, analyze, check_index, load, look_markdown, scratch_markdown, summary_markdown
from apps.attention.stats import STAT_NAMES, look_map, token_targets
from apps.errors import LabError
from apps.i18n import DEFAULT_LANG, t
from apps.models import registry
from apps.plotting import caption_lang

L = DEFAULT_LANG
EXAMPLE = "The cat sat on the mat because it was tired."


_plot_lang = caption_lang  # plot captions in Chinese only when a font can draw them


def view_choices(lang: str) -> list[tuple[str, str]]:
    return [(t(f"attention.view.{v}", lang), v) for v in bertviz_page.VIEWS]


def _need(a: Analysis | None) -> Analysis:
    if a is None:
        raise LabError("attention.no_run")
    return a


def _message_html(text: str) -> str:
    return f'<p class="llmlab-attn-note" style="color:#b45309">{html.escape(text)}</p>'


def render_bertviz(a: Analysis, view: str, first: int, lang: str) -> str:
    run = a.run
    if not assets.present():
        return _message_html(t("attention.missing_js", lang))
    try:
        document = bertviz_page.page(run.attentions, run.tokens, view or "head", int(first or 0),
                                     missing_js_text=t("attention.missing_js", lang))
    except LabError as exc:  # too long for bertviz: say so, the other views still work
        return _message_html(exc.message(lang))
    shown = bertviz_page.page_layers(run.n_layers, run.n_heads, run.n_tokens, int(first or 0))
    note = t("attention.bertviz_paged", lang, first=shown[0], last=shown[-1], n=run.n_layers)
    px = bertviz_page.height(view or "head", len(shown), run.n_heads, run.n_tokens)
    return f"<p>{html.escape(note)}</p>" + bertviz_page.iframe(document, px)


def render_head(cache, a: Analysis, layer: int, head: int, lang: str):
    """Heatmap of one head, and the same head recomputed from scratch next to it."""
    run, pl = a.run, _plot_lang(lang)
    layer = check_index(t("attention.layer", lang), layer, run.n_layers)
    head = check_index(t("attention.head", lang), head, run.n_heads)
    weights = run.attentions[layer, head]
    axes = (t("attention.plot.key", pl), t("attention.plot.query", pl))
    heat = plots.heatmap(weights, run.tokens, t("attention.plot.heatmap", pl, layer=layer, head=head), *axes)
    if a.diffs is None:
        return heat, a.unsupported.message(lang) if a.unsupported else "", None
    mine = recipes.recompute(load(cache, run.model).model, run.layer_inputs[layer], layer, head)
    diff = float(np.abs(mine - weights).max())
    side = plots.compare(weights, mine, run.tokens, (t("attention.plot.model", pl), t("attention.plot.scratch", pl)), *axes)
    return heat, scratch_markdown(run, layer, head, diff, lang), side


def render_look(a: Analysis, query: int, lang: str):
    run, pl = a.run, _plot_lang(lang)
    query = check_index(t("attention.plot.token", lang), query, run.n_tokens)
    fig = plots.token_look(look_map(run.attentions, query), run.tokens, query,
                           t("attention.plot.look", pl, token=run.tokens[query].strip() or repr(run.tokens[query]), index=query),
                           t("attention.plot.token", pl), t("attention.plot.layer", pl))
    return fig, look_markdown(run, token_targets(run.attentions, query), lang)


def token_spans(a: Analysis, query: int | None) -> list[tuple[str, str | None]]:
    return [(tok, "→" if i == query else None) for i, tok in enumerate(a.run.tokens)]


def build(ctx: ui.ShellContext) -> dict:
    c: dict[str, gr.components.Component] = {}
    state = gr.State(None)  # Analysis of this user's last text
    c["attention.intro"] = gr.Markdown(t("attention.intro", L))
    with gr.Row():
        c["attention.model"] = gr.Dropdown(registry.names(), value="smollm2-135m-instruct", allow_custom_value=True,
                                           elem_id="attn-model", **ui.texts("attention.model", L))
        c["attention.text"] = gr.Textbox(value=EXAMPLE, lines=2, scale=3, elem_id="attn-text",
                                         **ui.texts("attention.text", L))
        c["attention.run"] = gr.Button(t("attention.run", L), variant="primary", scale=0, elem_id="attn-run")
    info = gr.Markdown("", elem_id="attn-info")
    with gr.Row():
        c["attention.layer"] = gr.Slider(0, 1, value=0, step=1, elem_id="attn-layer", **ui.texts("attention.layer", L))
        c["attention.head"] = gr.Slider(0, 1, value=0, step=1, elem_id="attn-head", **ui.texts("attention.head", L))
    with gr.Tabs():
        with gr.Tab(t("attention.sub_bertviz", L), elem_id="attn-tab-bertviz") as tab:
            c["attention.sub_bertviz"] = tab
            with gr.Row():
                # relabelled by its own on_lang listener below (its choices change language too)
                view_radio = gr.Radio(view_choices(L), value="head", elem_id="attn-bv-view",
                                      **ui.texts("attention.bertviz_view", L))
                c["attention.bertviz_first"] = gr.Slider(0, 1, value=0, step=1, elem_id="attn-bv-first",
                                                         **ui.texts("attention.bertviz_first", L))
            bertviz = gr.HTML("", elem_id="attn-bertviz")
        with gr.Tab(t("attention.sub_maps", L), elem_id="attn-tab-maps") as tab:
            c["attention.sub_maps"] = tab
            c["attention.heatmap"] = gr.Plot(elem_id="attn-heatmap", **ui.texts("attention.heatmap", L))
            c["attention.summary_help"] = gr.Markdown(t("attention.summary_help", L))
            c["attention.summary"] = gr.Plot(elem_id="attn-summary", **ui.texts("attention.summary", L))
        with gr.Tab(t("attention.sub_look", L), elem_id="attn-tab-look") as tab:
            c["attention.sub_look"] = tab
            c["attention.tokens"] = gr.HighlightedText(elem_id="attn-tokens", show_legend=False,
                                                       color_map={"→": "red"}, **ui.texts("attention.tokens", L))
            c["attention.look"] = gr.Plot(elem_id="attn-look", **ui.texts("attention.look", L))
            look_md = gr.Markdown("", elem_id="attn-look-table")
        with gr.Tab(t("attention.sub_scratch", L), elem_id="attn-tab-scratch") as tab:
            c["attention.sub_scratch"] = tab
            c["attention.scratch_help"] = gr.Markdown(t("attention.scratch_help", L))
            scratch_md = gr.Markdown("", elem_id="attn-scratch")
            c["attention.scratch_plot"] = gr.Plot(elem_id="attn-scratch-plot", **ui.texts("attention.scratch_plot", L))
            c["attention.agreement"] = gr.Plot(elem_id="attn-agreement", **ui.texts("attention.agreement", L))

    looked = gr.State(None)  # the token whose look is shown (a language switch redraws it)

    def draw(a, layer, head, query, view, first, lang) -> list:
        """Every figure and text of one analysis in `lang`: [info, bertviz, heatmap, summary, look, look
        table, scratch text, scratch plot, agreement]. on_run shows it; a language switch redraws it."""
        pl = _plot_lang(lang)
        heat, scratch, side = render_head(ctx.cache, a, layer, head, lang)
        summary = plots.summary(a.stats, {n: t(f"attention.stat.{n}", pl) for n in STAT_NAMES},
                                t("attention.plot.head", pl), t("attention.plot.layer", pl))
        look, table = render_look(a, query, lang)
        agree = None if a.diffs is None else plots.agreement_map(
            a.diffs, t("attention.plot.agreement", pl), t("attention.plot.head", pl), t("attention.plot.layer", pl))
        return [summary_markdown(a, lang), render_bertviz(a, view, first, lang), heat, summary, look, table,
                scratch, side, agree]

    drawn = [info, bertviz, c["attention.heatmap"], c["attention.summary"], c["attention.look"], look_md,
             scratch_md, c["attention.scratch_plot"], c["attention.agreement"]]

    @ui.friendly
    def on_run(model, text, view, lang, progress=gr.Progress()):
        progress(0.1, desc=t("attention.run", lang))
        a = analyze(ctx.cache, model, text)
        run = a.run
        query = run.n_tokens - 1  # the last token: what a decoder reads to predict the next one
        last_page = max(0, run.n_layers - bertviz_page.layers_per_page(run.n_layers, run.n_heads, run.n_tokens))
        return (a, query, gr.update(maximum=run.n_layers - 1, value=0), gr.update(maximum=run.n_heads - 1, value=0),
                gr.update(maximum=max(1, last_page), value=0, interactive=last_page > 0), token_spans(a, query),
                *draw(a, 0, 0, query, view, 0, lang))

    c["attention.run"].click(
        on_run, [c["attention.model"], c["attention.text"], view_radio, ctx.lang],
        [state, looked, c["attention.layer"], c["attention.head"], c["attention.bertviz_first"], c["attention.tokens"],
         *drawn],
        concurrency_id="attention", concurrency_limit=1,
    )
    ctx.rerender(lambda lang, a, layer, head, query, view, first: draw(a, int(layer), int(head), int(query), view,
                                                                       int(first or 0), lang)
                 if a is not None and query is not None else [gr.update()] * len(drawn),
                 [state, c["attention.layer"], c["attention.head"], looked, view_radio, c["attention.bertviz_first"]],
                 drawn)

    @ui.friendly
    def on_head(a, layer, head, lang):
        return render_head(ctx.cache, _need(a), layer, head, lang)

    for slider in (c["attention.layer"], c["attention.head"]):
        slider.release(on_head, [state, c["attention.layer"], c["attention.head"], ctx.lang],
                       [c["attention.heatmap"], scratch_md, c["attention.scratch_plot"]], concurrency_id="attention")

    @ui.friendly
    def on_page(a, view, first, lang):
        return render_bertviz(_need(a), view, first, lang)

    view_radio.change(on_page, [state, view_radio, c["attention.bertviz_first"], ctx.lang],
                                       bertviz)
    c["attention.bertviz_first"].release(on_page, [state, view_radio, c["attention.bertviz_first"],
                                                   ctx.lang], bertviz)

    @ui.friendly
    def on_token(a, lang, evt: gr.SelectData):
        a = _need(a)
        fig, table = render_look(a, evt.index, lang)
        return int(evt.index), token_spans(a, int(evt.index)), fig, table

    c["attention.tokens"].select(on_token, [state, ctx.lang], [looked, c["attention.tokens"], c["attention.look"], look_md])
    ctx.on_lang(lambda lang: gr.update(choices=view_choices(lang), **ui.texts("attention.bertviz_view", lang)),
                [view_radio])
    return c
