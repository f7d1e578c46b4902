"""API task lab tab: pick a provider, then summarise news or classify headlines in batches.

Wiring only: the work is in apps.tasks.providers / summarize / classify / batch / plots. API keys
live in a per-session gr.State ({preset: key}, server memory, gone when the tab closes); the key box
is emptied as soon as a key is stored, so the page never shows it again, and nothing writes it out.
"""
from __future__ import annotations

import os
import tempfile

import gradio as gr
import pandas as pd

from apps import ui
from apps.errors import LabError
from apps.i18n import DEFAULT_LANG, lang_from_accept, t
from apps.plotting import caption_lang
from apps.tasks import batch, classify, endpoint, plots, summarize
from apps.tasks.providers import PRESETS, ProviderConfig

L = DEFAULT_LANG
SUMMARY_COLUMNS = ["id", "summary", "reference", "rouge1", "rouge2", "rougeL", "latency_s", "completion_tokens", "error"]
CLASSIFY_COLUMNS = ["id", "text", "gold", "pred", "raw", "correct", "latency_s", "error"]
COMPARE_COLUMNS = ["method", "model", "accuracy", "macro_f1", "unparsed", "n", "seconds"]


def preset_choices(lang: str) -> list[tuple[str, str]]:
    return [(p.label[0] if lang == "zh" else p.label[1], p.key) for p in PRESETS.values()]


def key_status(keys: dict, preset: str, lang: str) -> str:
    key = (keys or {}).get(preset)
    if key:
        return t("tasks.key_set", lang, tail=key[-4:])
    return t("tasks.key_none", lang) if PRESETS[preset].needs_key else t("tasks.key_optional", lang)


def store_key(new_key: str, preset: str, keys: dict, lang: str):
    """Keep the key in this session's state only, and clear the box."""
    keys = dict(keys or {})
    if new_key and new_key.strip():
        keys[preset] = new_key.strip()
    return keys, "", key_status(keys, preset, lang)


def forget_key(preset: str, keys: dict, lang: str):
    keys = {k: v for k, v in (keys or {}).items() if k != preset}
    return keys, key_status(keys, preset, lang)


def on_preset(preset: str, keys: dict, lang: str, request: gr.Request = None):
    spec = PRESETS[preset]
    url = ui.lab_addresses(request)[0] if preset == "lab" else (spec.base_url or "")
    return (gr.update(value=url), gr.update(value=spec.model), key_status(keys, preset, lang),
            endpoint.key_source(spec, lang))


def snippet_intro(lang: str, request: gr.Request = None) -> str:
    return t("tasks.snippets_intro", lang, url=ui.lab_addresses(request)[1])


def on_load(request: gr.Request = None):
    """The page's first screen (in the browser's language, as the shell picks it): the lab's real
    address in the base URL box, and the snippets."""
    own, public = ui.lab_addresses(request)
    code = endpoint.snippets(public, PRESETS["lab"].model)
    lang = lang_from_accept(request.headers.get("accept-language") if request is not None else None)
    return own, snippet_intro(lang, request), code["curl"], code["python"]


def _config(preset, base_url, model, keys, lab_url=None) -> ProviderConfig:
    return ProviderConfig(preset, base_url=(base_url or "").strip() or None, model=(model or "").strip() or None,
                          api_key=(keys or {}).get(preset), lab_url=lab_url)


def _items(sample: str, upload) -> list[dict]:
    if upload:
        return batch.load_items(upload if isinstance(upload, str) else upload.name)
    if sample in batch.SAMPLES:
        return batch.load_items(batch.sample_path(batch.SAMPLES[sample]))
    raise LabError("tasks.no_data")


def _save(rows: list[dict], stem: str, fmt: str) -> str:
    folder = tempfile.mkdtemp(prefix="llmlab-tasks-")
    return str(batch.write_results(rows, os.path.join(folder, f"{stem}.{fmt}")))


def _table(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    """Named columns: a bare list of lists would show Gradio's placeholder headers "1 2 3"."""
    return pd.DataFrame([[r.get(c, "") if r.get(c) is not None else "" for c in columns] for r in rows],
                        columns=columns)


def _totals_md(result: dict, lang: str) -> str:
    tot = result["totals"]
    cost = endpoint.format_cost(tot["cost"], result.get("currency"), (result.get("provider") or {}).get("preset"), lang)
    return t("tasks.totals", lang, items=tot["items"], errors=tot["errors"], pt=tot["prompt_tokens"],
             ct=tot["completion_tokens"], latency=tot["mean_latency_s"], cost=cost)


@ui.friendly
def run_summaries(preset, base_url, model, keys, sample, upload, text_lang, length, limit, template, fmt, lang,
                  progress=gr.Progress(), lab_url=None):
    items = _items(sample, upload)[: int(limit) or None]
    cfg = _config(preset, base_url, model, keys, lab_url)
    progress((0, len(items)), desc=t("tasks.running", lang))
    result = summarize.run(cfg, items, template, int(length), text_lang,
                           progress=lambda d, n: progress((d, n), desc=t("tasks.running", lang)))
    r = result["rouge"]
    head = t("tasks.rouge_md", lang, n=result["scored"], r1=r.get("rouge1", 0), r2=r.get("rouge2", 0),
             rl=r.get("rougeL", 0)) if r else t("tasks.no_refs", lang)
    fig = plots.rouge_figure(result["rows"]) if r else None
    return (head + "\n\n" + _totals_md(result, lang), fig, _table(result["rows"], SUMMARY_COLUMNS),
            _save(result["rows"], "summaries", fmt))


@ui.friendly
def run_classify(preset, base_url, model, keys, sample, upload, labels, method, shots, limit, text_lang, template,
                 fmt, lang, progress=gr.Progress(), lab_url=None):
    items = _marked(sample, upload, limit)
    needs_provider = method in ("zero-shot", "few-shot")
    progress((0, sum(i["split"] == "test" for i in items)), desc=t("tasks.running", lang))
    result = classify.run(items, method, [labels] if labels else None,
                          _config(preset, base_url, model, keys, lab_url) if needs_provider else None, template, text_lang,
                          int(shots), progress=lambda d, n: progress((d, n), desc=t("tasks.running", lang)))
    rep = result["report"]
    if rep:
        head = t("tasks.class_md", lang, acc=rep["accuracy"], f1=rep["macro_f1"], unparsed=rep["unparsed"],
                 n=rep["n"], train=result["train_size"])
        fig = plots.confusion_figure(rep["confusion"], rep["labels"], rep["columns"],
                                     xlabel=t("tasks.predicted", caption_lang(lang)),
                                     ylabel=t("tasks.gold", caption_lang(lang)))
    else:
        head, fig = t("tasks.no_gold", lang), None
    if needs_provider:
        head += "\n\n" + _totals_md(result, lang)
    return head, fig, _table(result["rows"], CLASSIFY_COLUMNS), _save(result["rows"], "labels", fmt)


def _marked(sample, upload, limit) -> list[dict]:
    """The chosen data with its train/test split made explicit (the limit cuts only the test items)."""
    train, test = classify.split_items(_items(sample, upload))
    if int(limit):
        test = test[: int(limit)]
    return [dict(i, split="train") for i in train] + [dict(i, split="test") for i in test]


@ui.friendly
def compare_methods(sample, upload, labels, shots, limit, text_lang, template, lang, progress=gr.Progress()):
    """Every offline method on the same items, one row each, and which scored best."""
    progress((0, len(classify.VARIANTS)), desc=t("tasks.running", lang))
    result = classify.compare(_marked(sample, upload, limit), [labels] if labels else None, text_lang, int(shots),
                              template, progress=lambda d, n: progress((d, n), desc=t("tasks.running", lang)))
    best = result["best"]
    head = t("tasks.compare_md", lang, method=best["method"], model=best["model"] or "-", acc=best["accuracy"],
             default=classify.DEFAULT_METHOD) if best else t("tasks.no_gold", lang)
    return head, _table(result["rows"], COMPARE_COLUMNS)


def build(ctx: ui.ShellContext) -> dict:
    c: dict = {}
    keys = gr.State({})  # {preset: api key}: this browser session only
    c["tasks.intro"] = gr.Markdown(t("tasks.intro", L))
    with gr.Group():
        with gr.Row():
            preset = gr.Dropdown(preset_choices(L), value="lab", elem_id="tasks-preset", **ui.texts("tasks.preset", L))
            base_url = gr.Textbox(ProviderConfig("lab").url, elem_id="tasks-base-url", **ui.texts("tasks.base_url", L))
            model = gr.Textbox(PRESETS["lab"].model, elem_id="tasks-model", **ui.texts("tasks.model", L))
        with gr.Row():
            key_box = gr.Textbox(type="password", elem_id="tasks-key", scale=3, **ui.texts("tasks.key", L))
            c["tasks.key_save"] = gr.Button(t("tasks.key_save", L), elem_id="tasks-key-save", scale=1)
            c["tasks.key_forget"] = gr.Button(t("tasks.key_forget", L), elem_id="tasks-key-forget", scale=1)
        status = gr.Markdown(key_status({}, "lab", L), elem_id="tasks-key-status")
        key_src = gr.Markdown(endpoint.key_source(PRESETS["lab"], L), elem_id="tasks-key-source")
    with gr.Accordion(t("tasks.snippets", L), open=False, elem_id="tasks-snippets") as c["tasks.snippets"]:
        snip_intro = gr.Markdown(elem_id="tasks-snippet-url")
        c["tasks.snippet_curl"] = gr.Code(language="shell", interactive=False, elem_id="tasks-snippet-curl",
                                          **ui.texts("tasks.snippet_curl", L))
        c["tasks.snippet_python"] = gr.Code(language="python", interactive=False, elem_id="tasks-snippet-python",
                                            **ui.texts("tasks.snippet_python", L))
    c.update({"tasks.preset": preset, "tasks.base_url": base_url, "tasks.model": model, "tasks.key": key_box})
    fmt = gr.Radio(["csv", "jsonl"], value="csv", elem_id="tasks-format", **ui.texts("tasks.format", L))
    c["tasks.format"] = fmt

    with gr.Tabs():
        with gr.Tab(t("tasks.sum_tab", L), elem_id="tasks-sum-tab") as sum_tab:
            with gr.Row():
                s_sample = gr.Dropdown(["news_zh"], value="news_zh", elem_id="tasks-sum-sample", **ui.texts("tasks.sample", L))
                s_upload = gr.File(file_types=[".jsonl", ".json", ".csv"], elem_id="tasks-sum-upload", **ui.texts("tasks.upload", L))
            with gr.Row():
                s_lang = gr.Radio(["zh", "en"], value="zh", elem_id="tasks-sum-lang", **ui.texts("tasks.text_lang", L))
                s_length = gr.Slider(10, 300, value=60, step=10, elem_id="tasks-sum-length", **ui.texts("tasks.length", L))
                s_limit = gr.Slider(0, 50, value=3, step=1, elem_id="tasks-sum-limit", **ui.texts("tasks.limit", L))
            s_template = gr.Textbox(summarize.TEMPLATES["zh"], lines=6, elem_id="tasks-sum-template", **ui.texts("tasks.template", L))
            c["tasks.sum_run"] = gr.Button(t("tasks.sum_run", L), variant="primary", elem_id="tasks-sum-run")
            s_md = gr.Markdown(elem_id="tasks-sum-metrics")
            s_plot = gr.Plot(elem_id="tasks-sum-plot", **ui.texts("tasks.rouge_plot", L))
            s_table = gr.Dataframe(headers=SUMMARY_COLUMNS, wrap=True, elem_id="tasks-sum-table", **ui.texts("tasks.rows", L))
            s_file = gr.File(elem_id="tasks-sum-file", **ui.texts("tasks.download", L))
        with gr.Tab(t("tasks.cls_tab", L), elem_id="tasks-cls-tab") as cls_tab:
            with gr.Row():
                k_sample = gr.Dropdown(["headlines_zh", "headlines_en"], value="headlines_en", elem_id="tasks-cls-sample",
                                       **ui.texts("tasks.sample", L))
                k_upload = gr.File(file_types=[".jsonl", ".json", ".csv"], elem_id="tasks-cls-upload", **ui.texts("tasks.upload", L))
            with gr.Row():
                k_labels = gr.Textbox(elem_id="tasks-cls-labels", **ui.texts("tasks.labels", L))
                k_method = gr.Radio(list(classify.METHODS), value=classify.DEFAULT_METHOD, elem_id="tasks-cls-method",
                                    **ui.texts("tasks.method", L))
            with gr.Row():
                k_shots = gr.Slider(1, 5, value=2, step=1, elem_id="tasks-cls-shots", **ui.texts("tasks.shots", L))
                k_limit = gr.Slider(0, 100, value=0, step=1, elem_id="tasks-cls-limit", **ui.texts("tasks.limit", L))
                k_lang = gr.Radio(["zh", "en"], value="en", elem_id="tasks-cls-lang", **ui.texts("tasks.text_lang", L))
            k_template = gr.Textbox(classify.TEMPLATES["en"], lines=6, elem_id="tasks-cls-template", **ui.texts("tasks.template", L))
            with gr.Row():
                c["tasks.cls_run"] = gr.Button(t("tasks.cls_run", L), variant="primary", elem_id="tasks-cls-run")
                c["tasks.compare_run"] = gr.Button(t("tasks.compare_run", L), elem_id="tasks-cls-compare")
            k_cmp_md = gr.Markdown(elem_id="tasks-cls-compare-md")
            k_cmp = gr.Dataframe(headers=COMPARE_COLUMNS, elem_id="tasks-cls-compare-table", **ui.texts("tasks.compare", L))
            k_md = gr.Markdown(elem_id="tasks-cls-metrics")
            k_plot = gr.Plot(elem_id="tasks-cls-plot", **ui.texts("tasks.confusion", L))
            k_table = gr.Dataframe(headers=CLASSIFY_COLUMNS, wrap=True, elem_id="tasks-cls-table", **ui.texts("tasks.rows", L))
            k_file = gr.File(elem_id="tasks-cls-file", **ui.texts("tasks.download", L))
    c.update({"tasks.sum_tab": sum_tab, "tasks.cls_tab": cls_tab, "tasks.sample": s_sample, "tasks.upload": s_upload,
              "tasks.text_lang": s_lang, "tasks.length": s_length, "tasks.limit": s_limit, "tasks.template": s_template,
              "tasks.rouge_plot": s_plot, "tasks.rows": s_table, "tasks.download": s_file,
              "tasks.cls_sample": k_sample, "tasks.cls_upload": k_upload, "tasks.labels": k_labels,
              "tasks.method": k_method, "tasks.shots": k_shots, "tasks.cls_limit": k_limit,
              "tasks.cls_lang": k_lang, "tasks.cls_template": k_template, "tasks.confusion": k_plot,
              "tasks.cls_rows": k_table, "tasks.cls_download": k_file, "tasks.compare": k_cmp})

    # ---- provider and key
    preset.change(on_preset, [preset, keys, ctx.lang], [base_url, model, status, key_src], queue=False,
                  api_visibility="private")
    # On page load: this server's real address (any port, any proxy) replaces the default guess.
    snippet_outputs = [base_url, snip_intro, c["tasks.snippet_curl"], c["tasks.snippet_python"]]
    gr.on(None, on_load, None, snippet_outputs, queue=False, api_visibility="private")
    for trigger in (key_box.submit, c["tasks.key_save"].click):
        trigger(store_key, [key_box, preset, keys, ctx.lang], [keys, key_box, status], queue=False,
                api_visibility="private")
    c["tasks.key_forget"].click(forget_key, [preset, keys, ctx.lang], [keys, status], queue=False,
                                api_visibility="private")
    # ---- templates follow the text language (edits are kept until the language changes)
    s_lang.change(lambda x: summarize.TEMPLATES[x], s_lang, s_template, queue=False, api_visibility="private")
    k_lang.change(lambda x: classify.TEMPLATES[x], k_lang, k_template, queue=False, api_visibility="private")
    k_sample.change(lambda s: "zh" if s.endswith("_zh") else "en", k_sample, k_lang, queue=False, api_visibility="private")
    # ---- runs
    provider = [preset, base_url, model, keys]

    # the class's request quota, counted per run before any call (apps.auth.quotas)
    @ui.friendly
    def sum_run(preset, base_url, model, keys, sample, upload, text_lang, length, limit, template, fmt, lang,
                progress=gr.Progress(), request: gr.Request = None):
        ctx.quotas.generation(ctx.user(request))
        return run_summaries(preset, base_url, model, keys, sample, upload, text_lang, length, limit, template, fmt,
                             lang, progress, lab_url=ui.lab_addresses(request)[0])

    @ui.friendly
    def cls_run(preset, base_url, model, keys, sample, upload, labels, method, shots, limit, text_lang, template,
                fmt, lang, progress=gr.Progress(), request: gr.Request = None):
        ctx.quotas.generation(ctx.user(request))
        return run_classify(preset, base_url, model, keys, sample, upload, labels, method, shots, limit, text_lang,
                            template, fmt, lang, progress, lab_url=ui.lab_addresses(request)[0])

    c["tasks.sum_run"].click(sum_run, [*provider, s_sample, s_upload, s_lang, s_length, s_limit, s_template, fmt,
                                             ctx.lang], [s_md, s_plot, s_table, s_file], api_visibility="private",
                             api_name="run_summaries")
    c["tasks.cls_run"].click(cls_run, [*provider, k_sample, k_upload, k_labels, k_method, k_shots, k_limit, k_lang,
                                            k_template, fmt, ctx.lang], [k_md, k_plot, k_table, k_file],
                             api_visibility="private", api_name="run_classify")
    @ui.friendly
    def cmp_run(sample, upload, labels, shots, limit, text_lang, template, lang, progress=gr.Progress(),
                request: gr.Request = None):
        ctx.quotas.generation(ctx.user(request))
        return compare_methods(sample, upload, labels, shots, limit, text_lang, template, lang, progress)

    c["tasks.compare_run"].click(cmp_run, [k_sample, k_upload, k_labels, k_shots, k_limit, k_lang, k_template, ctx.lang],
                                 [k_cmp_md, k_cmp], api_visibility="private", api_name="compare_methods")
    # The key status depends on this session's keys: a hidden mirror of the language re-renders it
    # from the State whenever the shell switches language.
    lang_mirror = gr.Textbox(L, visible=False)
    ctx.on_lang(lambda lang: [gr.update(choices=preset_choices(lang)), lang], [preset, lang_mirror])
    lang_mirror.change(key_status, [keys, preset, lang_mirror], status, queue=False, api_visibility="private")
    lang_mirror.change(lambda p, lang: endpoint.key_source(PRESETS[p], lang), [preset, lang_mirror], key_src,
                       queue=False, api_visibility="private")
    lang_mirror.change(snippet_intro, lang_mirror, snip_intro, queue=False, api_visibility="private")
    return c
