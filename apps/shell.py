"""The Gradio shell: one Blocks app whose tabs come from the TABS list, with a zh/en switch.

Adding a stage is one line here: ("key", "apps.<stage>.view"). Each view module exposes
`build(ctx: ShellContext) -> dict[str, Component]`; the tab's title is the string `"<key>.tab"`.
"""
from __future__ import annotations

import importlib

import gradio as gr

from apps import ui
from apps.i18n import DEFAULT_LANG, lang_from_accept, t
from apps.models import default_cache

TABS: list[tuple[str, str]] = [
    ("course", "apps.course.view"),
    ("playground", "apps.playground.view"),
    ("attention", "apps.attention.view"),
    ("rag", "apps.retrieval.view"),
    ("tasks", "apps.tasks.view"),
    ("finetune", "apps.finetune.view"),
    ("quantize", "apps.quantize.view"),
    ("arena", "apps.arena.view"),
]

LANG_CHOICES = [("中文", "zh"), ("English", "en")]

CSS = """
.llmlab-tokens span.tok { border-radius: 3px; padding: 0 1px; margin: 0 1px 1px 0; display: inline-block;
  white-space: pre-wrap; font-family: ui-monospace, monospace; cursor: help; }
.llmlab-tokens span.tok:hover { outline: 1px solid #333; }
.llmlab-tokens sub.tid { font-size: 0.6em; color: #555; margin-left: 1px; }
"""


def build_demo(cache=None) -> gr.Blocks:
    cache = cache or default_cache()
    with gr.Blocks(title=f"{t('app.title', 'zh')} · {t('app.title', 'en')}") as demo:
        lang = gr.State(DEFAULT_LANG)
        ctx = ui.ShellContext(lang=lang, cache=cache)
        components: dict[str, gr.components.Component] = {}
        with gr.Row():
            components["shell.header"] = gr.Markdown(t("shell.header", DEFAULT_LANG))
            lang_radio = gr.Radio(LANG_CHOICES, value=DEFAULT_LANG, label=t("app.language", DEFAULT_LANG),
                                  elem_id="lang-switch", scale=0, min_width=220)
        with gr.Tabs():
            for key, module_path in TABS:
                view = importlib.import_module(module_path)
                with gr.Tab(t(f"{key}.tab", DEFAULT_LANG), elem_id=f"tab-{key}") as tab:
                    components[f"{key}.tab"] = tab
                    components.update(view.build(ctx))
        components["app.language"] = lang_radio

        outputs = list(components.values())
        extra_outputs = [o for _, outs in ctx.lang_listeners for o in outs]

        def switch(new_lang):
            updates = ui.relabel(components, new_lang)
            for fn, _outs in ctx.lang_listeners:
                result = fn(new_lang)
                updates.extend(result if isinstance(result, (list, tuple)) else [result])
            return [new_lang, *updates]

        lang_radio.change(switch, lang_radio, [lang, *outputs, *extra_outputs], queue=False,
                          api_visibility="private")

        def detect(request: gr.Request):
            # The first screen speaks the browser's language: Accept-Language picks zh or en.
            header = request.headers.get("accept-language") if request else None
            return lang_from_accept(header)

        demo.load(detect, None, lang_radio, queue=False, api_visibility="private")
    demo.queue(default_concurrency_limit=4)
    return demo


def mount_ui(app, cache=None):
    """Serve the Blocks app at / of a FastAPI app (whose other routes stay reachable)."""
    return gr.mount_gradio_app(app, build_demo(cache), path="/", css=CSS, theme=gr.themes.Soft(),
                               footer_links=["api"])
