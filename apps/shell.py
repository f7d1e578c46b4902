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
        # On a Space: what a visitor must know first (state lost on restart, offline fallback, CPU only).
        from apps.space.mode import notices

        space_keys = notices()
        space_note = gr.Markdown(_notice(space_keys, DEFAULT_LANG), elem_id="space-notice", visible=bool(space_keys))
        ctx.on_lang(lambda new_lang: [_notice(space_keys, new_lang)], [space_note])
        with gr.Tabs():
            for key, module_path in TABS:
                view = importlib.import_module(module_path)
                with gr.Tab(t(f"{key}.tab", DEFAULT_LANG), elem_id=f"tab-{key}") as tab:
                    components[f"{key}.tab"] = tab
                    components.update(view.build(ctx))
        components["app.language"] = lang_radio

        # One event re-labels every component, runs the tabs' on_lang listeners and re-renders their
        # results from language-neutral state (ctx.rerender); a component named twice gets one merged update.
        # only components with strings are relabelled: every output costs Gradio time on each switch
        labelled = {key: comp for key, comp in components.items() if ui.has_text(key)}
        outputs = ui.unique([*labelled.values(), *(o for _, outs in ctx.lang_listeners for o in outs),
                             *(o for _, _, outs in ctx.rerenders for o in outs)])
        rerender_inputs = ui.unique([i for _, ins, _ in ctx.rerenders for i in ins])

        def switch(new_lang, *values):
            slots = ui.Slots(outputs)
            slots.put_all(list(labelled.values()), ui.relabel(labelled, new_lang))
            for fn, outs in ctx.lang_listeners:
                slots.put_all(outs, fn(new_lang))
            given = dict(zip(map(id, rerender_inputs), values))
            for fn, ins, outs in ctx.rerenders:
                slots.put_all(outs, ui.safe_render(fn, new_lang, [given[id(i)] for i in ins], len(outs)))
            return [new_lang, *slots.updates()]

        # When the switch has landed the page says so (body[data-lab-lang]): scripts and tests that type
        # into a box wait for it, else the switch's late re-render overwrites what they typed.
        # show_progress_on: the browser tracks a loading status per progress target and updates all of
        # them on every status change; with ~600 outputs that alone took the page 20 s. One is enough.
        lang_radio.change(switch, [lang_radio, *rerender_inputs], [lang, *outputs], queue=False,
                          show_progress="hidden", show_progress_on=[lang_radio],
                          api_visibility="private").then(None, lang_radio, None, js=ui.LANG_DONE_JS,
                                                         queue=False, api_visibility="private")
        # Gradio's own strings ("Drop File Here", "Error", "Use via API") follow its locale, not our State
        lang_radio.change(None, lang_radio, None, js=ui.GRADIO_LOCALE_JS, queue=False, api_visibility="private")

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
    ui.lazy_sessions()  # a new session must not render the whole page on the event loop
    ui.harden(demo, lang, ledger if ledger is not None else UploadLedger())
    return demo


def _notice(keys: list[str], lang: str) -> str:
    return "\n\n".join(f"⚠ {t(k, lang)}" for k in keys)


def mount_ui(app, cache=None, ledger: UploadLedger | None = None, auth=None):
    """Serve the Blocks app at / of a FastAPI app (whose other routes stay reachable). Outside
    personal mode Gradio asks `auth.identify` about every page and API request: no user, no answer."""
    from apps.auth import Auth

    auth = auth or Auth("personal")
    extra = {} if auth.personal else {"auth_dependency": auth.identify}
    return gr.mount_gradio_app(app, build_demo(cache, ledger, auth), path="/", css=CSS + ui.toast_css(),
                               theme=gr.themes.Soft(), footer_links=["api"], i18n=gradio_strings(), **extra)


def gradio_strings() -> gr.I18n:
    """Keys Gradio's frontend uses without shipping a text for them (shown raw otherwise, e.g. the
    status tracker's `common.complete`), in Gradio's own locales en and zh-CN (ui.GRADIO_LOCALE_JS)."""
    keys = {"common.complete": "gradio.complete"}
    return gr.I18n(en={k: t(v, "en") for k, v in keys.items()}, **{"zh-CN": {k: t(v, "zh") for k, v in keys.items()}})
