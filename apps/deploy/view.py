"""Deploy tab: plug the lab into chat consoles and servers into the lab, load-test an endpoint, and
the commands for the terminal chat and the app export. Wiring only (apps/deploy/* is the logic)."""
from __future__ import annotations

import gradio as gr
from gradio.context import Context

from apps import ui
from apps.deploy import connect
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
    with gr.Accordion(t("deploy.apps", L), open=False) as acc:
        c["deploy.apps"] = acc
        c["deploy.apps_md"] = gr.Markdown(t("deploy.apps_md", L))

    def on_load(request: gr.Request):
        base = page_base(request)
        return base, connect.markdown(base, lang_from_accept(request.headers.get("accept-language"))), \
            loopback_base(request)

    Context.root_block.load(on_load, None, [c["deploy.base_url"], commands, c["deploy.target"]], queue=False,
                            api_visibility="private")

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
