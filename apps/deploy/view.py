"""Deploy tab: plug the lab into chat consoles and servers into the lab, load-test an endpoint, export
your own app as a zip, and the commands for the terminal chat. Wiring only (apps/deploy/* is the logic)."""
from __future__ import annotations

from pathlib import Path

import gradio as gr
from gradio.context import Context
from gradio.utils import get_upload_folder

from apps import ui
from apps.deploy import bundle, connect
from apps.deploy.loadtest import MAX_STREAMS, LoadConfig, run, timeline_figure
from apps.i18n import DEFAULT_LANG, lang_from_accept, t
from apps.plotting import plt

L = DEFAULT_LANG


def page_base(request: gr.Request | None) -> str:
    """The lab's /v1 as this browser reaches it (what to paste into Open WebUI on another machine)."""
    if request is None:
        return connect.lab_base()
    headers = {k.lower(): v for k, v in dict(request.headers).items()}
    host = headers.get("x-forwarded-host") or headers.get("host")
    url = getattr(getattr(request, "request", None), "url", None)
    scheme = headers.get("x-forwarded-proto") or (url.scheme if url is not None else "http")
    return f"{scheme}://{host}/v1" if host else connect.lab_base()


def loopback_base(request: gr.Request | None) -> str:
    """The lab's own /v1 seen from the server itself (the port it listens on), for the load test."""
    scope = getattr(getattr(request, "request", None), "scope", None) or {}
    server = scope.get("server")
    return f"http://127.0.0.1:{server[1]}/v1" if server else connect.lab_base()


def build(ctx: ui.ShellContext) -> dict:
    c: dict[str, gr.components.Component] = {}
    c["deploy.intro"] = gr.Markdown(t("deploy.intro", L))
    with gr.Accordion(t("deploy.connect", L), open=True) as acc:
        c["deploy.connect"] = acc
        c["deploy.base_url"] = gr.Textbox(connect.lab_base(), elem_id="deploy-base", **ui.texts("deploy.base_url", L))
        commands = gr.Markdown(connect.markdown(None, L), elem_id="deploy-commands")
    with gr.Accordion(t("deploy.loadtest", L), open=True) as acc:
        c["deploy.loadtest"] = acc
        c["deploy.loadtest_intro"] = gr.Markdown(t("deploy.loadtest_intro", L))
        with gr.Row():
            c["deploy.target"] = gr.Textbox(connect.lab_base(), scale=2, elem_id="deploy-target",
                                            **ui.texts("deploy.target", L))
            c["deploy.model"] = gr.Textbox("smollm2-135m-instruct", elem_id="deploy-model", **ui.texts("deploy.model", L))
            c["deploy.api_key"] = gr.Textbox(type="password", **ui.texts("deploy.api_key", L))
        with gr.Row():
            c["deploy.streams"] = gr.Slider(1, MAX_STREAMS, value=8, step=1, elem_id="deploy-streams",
                                            **ui.texts("deploy.streams", L))
            c["deploy.max_tokens"] = gr.Slider(4, 256, value=32, step=1, elem_id="deploy-max-tokens",
                                               **ui.texts("deploy.max_tokens", L))
        c["deploy.run"] = gr.Button(t("deploy.run", L), variant="primary", elem_id="deploy-run")
        summary = gr.Markdown("", elem_id="deploy-summary")
        plot = gr.Plot(elem_id="deploy-plot")
        details = gr.JSON(visible=False)
    ex = export_section(ctx, c)
    with gr.Accordion(t("deploy.apps", L), open=False) as acc:
        c["deploy.apps"] = acc
        c["deploy.apps_md"] = gr.Markdown(t("deploy.apps_md", L))

    def on_load(request: gr.Request):
        base = page_base(request)
        return base, connect.markdown(base, lang_from_accept(request.headers.get("accept-language"))), \
            loopback_base(request)

    Context.root_block.load(on_load, None, [c["deploy.base_url"], commands, c["deploy.target"]], queue=False,
                            api_visibility="private")
    Context.root_block.load(ex["on_load"], None, ex["on_load_outputs"], queue=False, api_visibility="private")

    def show(base, lang):
        return connect.markdown(base or None, lang)

    c["deploy.base_url"].change(show, [c["deploy.base_url"], ctx.lang], commands, queue=False, api_visibility="private")
    ctx.lang.change(show, [c["deploy.base_url"], ctx.lang], commands, queue=False, api_visibility="private")

    @ui.friendly
    def load_test(target, model, key, streams, max_tokens, lang, request: gr.Request = None):
        user = ctx.user(request)
        for _ in range(int(streams)):  # each stream counts as a request against the class's limits
            ctx.quotas.generation(user, int(max_tokens))
        report = run(LoadConfig(base_url=(target or "").strip(), model=(model or "").strip(), streams=int(streams),
                                max_tokens=int(max_tokens), api_key=key or None))
        fig = timeline_figure(report, lang)
        plt.close(fig)
        line = t("deploy.load_line", lang, n=int(streams), served=report["served"], refused=report["refused"],
                 failed=report["failed"], tps=report["aggregate_tok_s"], ttft50=report["ttft_p50_s"],
                 ttft95=report["ttft_p95_s"])
        if report["errors"]:
            line += "\n\n" + "\n".join(f"- `{e}`" for e in report["errors"])
        return line, fig, gr.update(value={k: v for k, v in report.items() if k != "streams"}, visible=True)

    c["deploy.run"].click(load_test, [c["deploy.target"], c["deploy.model"], c["deploy.api_key"], c["deploy.streams"],
                                      c["deploy.max_tokens"], ctx.lang], [summary, plot, details],
                          api_visibility="private", **ui.GENERATE)
    return c


def choice_list(rows, lang) -> list[tuple[str, str]]:
    """Dropdown (shown, value) pairs from bundle.model_choices rows (language-neutral, kept in a State)."""
    return [(t(f"deploy.ex_choice.{kind}", lang, name=label, label=label, base=base), value)
            for value, kind, label, base in rows or []]


def export_section(ctx: ui.ShellContext, c: dict) -> dict:
    """'Export your first AI app': the signed-in user's choices → a zip built by apps.deploy.bundle."""
    from apps.finetune.runs import runs_root
    from apps.retrieval.library import indexes_root

    # the folders the fine-tuning and RAG tabs use (read once, when the app is built); zips go to
    # Gradio's own file cache, so handing one out copies nothing
    runs, indexes = runs_root(), indexes_root()
    workdir = Path(get_upload_folder()) / "llmlab-deploy"
    rows = bundle.registry_choices()
    with gr.Accordion(t("deploy.ex", L), open=True) as acc:
        c["deploy.ex"] = acc
        c["deploy.ex_intro"] = gr.Markdown(t("deploy.ex_intro", L))
        with gr.Row():
            c["deploy.ex_model"] = gr.Dropdown(choice_list(rows, L), value=rows[0][0], allow_custom_value=True,
                                               scale=2, elem_id="deploy-ex-model", **ui.texts("deploy.ex_model", L))
            c["deploy.ex_index"] = gr.Checkbox(False, elem_id="deploy-ex-index", **ui.texts("deploy.ex_index", L))
        c["deploy.ex_system"] = gr.Textbox(lines=2, elem_id="deploy-ex-system", **ui.texts("deploy.ex_system", L))
        with gr.Row():
            c["deploy.ex_title"] = gr.Textbox("My first AI app", elem_id="deploy-ex-title",
                                              **ui.texts("deploy.ex_title", L))
            c["deploy.ex_max_tokens"] = gr.Slider(16, 1024, value=256, step=16, elem_id="deploy-ex-max-tokens",
                                                  **ui.texts("deploy.ex_max_tokens", L))
            c["deploy.ex_temperature"] = gr.Slider(0, 2, value=0, step=0.05, elem_id="deploy-ex-temperature",
                                                   **ui.texts("deploy.ex_temperature", L))
        c["deploy.ex_run"] = gr.Button(t("deploy.ex_run", L), variant="primary", elem_id="deploy-ex-run")
        status = gr.Markdown("", elem_id="deploy-ex-status")
        c["deploy.ex_file"] = gr.File(interactive=False, elem_id="deploy-ex-file", **ui.texts("deploy.ex_file", L))
    rows_state = gr.State(rows)  # (value, kind, label, base): this user's choices, re-labelled on a switch

    def on_load(request: gr.Request):
        # the language the page is about to switch to (the shell's first switch follows the browser):
        # a load answering after that switch must not put the other language's labels back
        lang = lang_from_accept(request.headers.get("accept-language"))
        user = ctx.user(request)
        mine = bundle.model_choices(user, runs)
        return mine, gr.update(choices=choice_list(mine, lang)), gr.update(value=bundle.has_index(user, indexes))

    ctx.rerender(lambda lang, rows: gr.update(choices=choice_list(rows, lang)), rows_state, c["deploy.ex_model"])

    @ui.friendly
    def build_zip(model, use_index, system, title, max_tokens, temperature, lang, request: gr.Request = None):
        req = bundle.ExportRequest(model=model or "", use_index=bool(use_index), system=system or "",
                                   title=title or "", max_tokens=max_tokens, temperature=temperature)
        done = bundle.export_zip(ctx.user(request), req, workdir=workdir, runs_root=runs, indexes_root=indexes)
        text = t("deploy.ex_done", lang, name=Path(done["zip"]).name, mb=done["zip_mb"], n=len(done["files"]),
                 reqs=", ".join(f"`{r}`" for r in done["requirements"]))
        return text, done["zip"]

    c["deploy.ex_run"].click(build_zip, [c["deploy.ex_model"], c["deploy.ex_index"], c["deploy.ex_system"],
                                         c["deploy.ex_title"], c["deploy.ex_max_tokens"], c["deploy.ex_temperature"],
                                         ctx.lang], [status, c["deploy.ex_file"]], api_visibility="private",
                             concurrency_id="deploy-export", concurrency_limit=2)  # disk-heavy: two at a time
    return {"on_load": on_load, "on_load_outputs": [rows_state, c["deploy.ex_model"], c["deploy.ex_index"]]}
