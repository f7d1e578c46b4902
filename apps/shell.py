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
from apps.security.files import UploadLedger

TABS: list[tuple[str, str]] = [
    ("course", "apps.course.view"),
    ("pretrain", "apps.pretrain.view"),
    ("playground", "apps.playground.view"),
    ("attention", "apps.attention.view"),
    ("rag", "apps.retrieval.view"),
    ("tasks", "apps.tasks.view"),
    ("finetune", "apps.finetune.view"),
    ("quantize", "apps.quantize.view"),
    ("arena", "apps.arena.view"),
    ("deploy", "apps.deploy.view"),
    ("classroom", "apps.auth.view"),
]

LANG_CHOICES = [("中文", "zh"), ("English", "en")]

CSS = """
.llmlab-tokens span.tok { border-radius: 3px; padding: 0 1px; margin: 0 1px 1px 0; display: inline-block;
  white-space: pre-wrap; font-family: ui-monospace, monospace; cursor: help; }
.llmlab-tokens span.tok:hover { outline: 1px solid #333; }
.llmlab-tokens sub.tid { font-size: 0.6em; color: #555; margin-left: 1px; }
[data-testid="status-tracker"]:has(> span.error) { display: none !important; } /* the toast says it once */
.llmlab-tokens span.tokgroup { display: inline-flex; flex-direction: column; align-items: center; vertical-align: top;
  border: 1px dashed #888; border-radius: 3px; margin: 0 1px 1px 0; } .llmlab-tokens span.tokparts { display: inline-flex; }
"""


def build_demo(cache=None, ledger: UploadLedger | None = None, auth=None) -> gr.Blocks:
    """`ledger`: where the server's upload route records who uploaded what (apps.security); the
    demo's handlers accept only files found there or shipped samples. `auth`: apps.auth.Auth."""
    from apps.auth import Auth

    cache = cache or default_cache()
    auth = auth or Auth("personal")
    with gr.Blocks(title=f"{t('app.title', 'zh')} · {t('app.title', 'en')}") as demo:
        lang = gr.State(DEFAULT_LANG)
        ctx = ui.ShellContext(lang=lang, cache=cache, auth=auth)
        components: dict[str, gr.components.Component] = {}
        with gr.Row():
            components["shell.header"] = gr.Markdown(t("shell.header", DEFAULT_LANG))
            who = gr.Markdown("", elem_id="signed-in-as", visible=not auth.personal)
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

        def signed_in(new_lang, request: gr.Request):
            return ui.signed_in_line(ctx, request, new_lang)

        def signed_in_first(request: gr.Request):  # in the browser's language, as detect picks it
            return ui.signed_in_line(ctx, request, detect(request))

        if not auth.personal:
            demo.load(signed_in_first, None, who, queue=False, api_visibility="private")
            lang_radio.change(signed_in, lang_radio, who, queue=False, api_visibility="private")
    # Generating handlers only wait on the batching engine (ui.GENERATE lets 64 wait at once): give
    # them workers and threads enough for a class, beyond Gradio's default of 40 (read by queue()).
    demo.max_threads = 128
    demo.queue(default_concurrency_limit=4)
    ui.harden(demo, lang, ledger if ledger is not None else UploadLedger())
    return demo


def mount_ui(app, cache=None, ledger: UploadLedger | None = None, auth=None):
    """Serve the Blocks app at / of a FastAPI app (whose other routes stay reachable). Outside
    personal mode Gradio asks `auth.identify` about every page and API request: no user, no answer."""
    from apps.auth import Auth

    auth = auth or Auth("personal")
    extra = {} if auth.personal else {"auth_dependency": auth.identify}
    return gr.mount_gradio_app(app, build_demo(cache, ledger, auth), path="/", css=CSS, theme=gr.themes.Soft(),
                               footer_links=["api"], **extra)
