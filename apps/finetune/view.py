"""The fine-tuning tab: pick model / method / data, estimate, preview the masking, start, watch, try.

Only widgets live here; every action calls apps.finetune (runner, estimate, data, runs, compare).
One `Runner` is built with the tab and shared by its users (one heavy run at a time, a visible
queue); each user's current run id is a gr.State. Runs are owned by the signed-in user who started
them (ctx.user): every handler hands that user to the logic, which refuses anyone else's run.
A gr.Timer polls the run's metrics.jsonl and redraws status, curves, queue and log.
"""
from __future__ import annotations

import html
import re

import gradio as gr
import pandas as pd

from apps import ui
from apps.finetune import data, runs
from apps.finetune.config import METHODS, OBJECTIVES, RunConfig
from apps.finetune.runner import Runner
from apps.auth.users import may_access
from apps.errors import LabError
from apps.i18n import DEFAULT_LANG, msg, render, t
from apps.models import registry

_TRAINED = "background:#bbf7d0;border-bottom:2px solid #16a34a"
_CONTEXT = "background:#f1f5f9;color:#64748b"


def _fmt_s(seconds) -> str:
    if seconds is None:
        return "–"
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


def preview_html(examples: list[dict], lang: str) -> str:
    parts = [f"<div style='margin-bottom:6px'>{html.escape(t('finetune.preview.legend', lang))}</div>"]
    for i, ex in enumerate(examples, 1):
        spans = "".join(f"<span style='{_TRAINED if trained else _CONTEXT}'>{html.escape(piece)}</span>"
                        for piece, trained in ex["tokens"])
        note = t("finetune.preview.count", lang, i=i, trained=ex["n_trained"], total=ex["n_tokens"])
        note += t("finetune.preview.truncated", lang) if ex["truncated"] else ""
        parts.append(f"<div style='margin:8px 0 2px'><b>{html.escape(note)}</b></div>"
                     f"<pre style='white-space:pre-wrap;font-size:13px;line-height:1.6'>{spans}</pre>")
    return "".join(parts)


def curve_frame(curves: dict, keys: list[tuple[str, str]]) -> pd.DataFrame:
    """Long-form (step, value, series) rows, numeric and in step order. A `None` anywhere would make
    the column an object column, which Gradio plots as text categories ("1.3132", "0" above "0.0002")
    in arrival order: so no placeholder rows, float dtypes even when empty."""
    rows = [(float(s), float(v), label) for key, label in keys for s, v in curves.get(key, [])
            if s is not None and v is not None]
    frame = pd.DataFrame(rows, columns=["step", "value", "series"]).astype({"step": float, "value": float})
    return frame.sort_values(["series", "step"], kind="stable").reset_index(drop=True)


QUEUE_COLUMNS = ("finetune.col.run", "finetune.col.state", "finetune.col.position")
RUN_COLUMNS = ("finetune.col.run", "finetune.col.state", "finetune.col.label", "finetune.col.loss", "finetune.col.reason")
COMPARE_COLUMNS = ("finetune.col.prompt", "finetune.col.base", "finetune.col.tuned")


def table_frame(rows: list[dict], columns, lang: str) -> pd.DataFrame:
    """Rows keyed by column string keys (values plain, or apps.i18n msgs) as a table with translated
    headers, the named columns first, then any extra ones the rows carry. Headers even with no rows:
    an empty table would otherwise show Gradio's placeholder headers "1 2 3"."""
    cols = list(columns) + [k for k in (rows[0] if rows else {}) if k not in columns]
    cell = lambda v: render(v, lang) if isinstance(v, dict) else v  # noqa: E731
    return pd.DataFrame([[cell(r.get(k)) for k in cols] for r in rows], columns=[t(k, lang) for k in cols])


def axis_titles(lang: str) -> list:
    """Axis titles of the loss, learning-rate and memory plots in `lang` (a language switch)."""
    step = t("finetune.curve.step", lang)
    return [gr.update(x_title=step, y_title=t("finetune.curve.loss_axis", lang)),
            gr.update(x_title=step, y_title=t("finetune.curve.lr", lang)),
            gr.update(x_title=t("finetune.est.part_axis", lang), y_title="MB")]


def curve_update(frame: pd.DataFrame, y_key: str, lang: str):
    return gr.update(value=frame, x_title=t("finetune.curve.step", lang), y_title=t(y_key, lang))


def blank_or_number(value, name: str, cast=float):
    """A hyper-parameter field: blank = automatic (None), else a positive number."""
    text = str(value if value is not None else "").strip()
    if not text:
        return None
    try:
        number = cast(float(text)) if cast is int else cast(text)
    except (ValueError, OverflowError):  # "abc", "nan" or "inf" for a count
        raise LabError("finetune.bad_number", name=name, value=text) from None
    if number <= 0 or (cast is int and float(text) != number):
        raise LabError("finetune.bad_number", name=name, value=text)
    return number


def status_markdown(run_id: str | None, lang: str, root=None, user=None) -> str:
    if not run_id:
        return t("finetune.status.none", lang)
    info = runs.get_run(run_id, root, user)
    m = runs.metrics(run_id, root)
    state = t(f"finetune.state.{info['state']}", lang)
    lines = [f"**{html.escape(info['label'])}** · {state}",
             t("finetune.status.line", lang, step=m["step"], total=m["total_steps"] or info["max_steps"],
               eta=_fmt_s(m["eta_s"]), elapsed=_fmt_s(m["elapsed_s"]),
               speed=f"{m['samples_per_s']:.2f}" if m["samples_per_s"] else "–",
               mem=f"{m['mem_mb']:.0f}" if m["mem_mb"] else "–",
               peak=f"{m['peak_mem_mb']:.0f}" if m["peak_mem_mb"] else "–")]
    if m["loss"] is not None:
        lines.append(t("finetune.status.loss", lang, loss=f"{m['loss']:.4f}",
                       eval=f"{m['eval_loss']:.4f}" if m["eval_loss"] is not None else "–"))
    lines += grpo_lines(m, lang)
    if info["reason"]:
        status = runs.read_status(info["folder"])
        lines.append("⚠️ " + html.escape(status.get("reason_zh") if lang == "zh" else status.get("reason", "")))
    if info["state"] == "finished":
        lines.append(t("finetune.status.saved", lang, path=info["adapter_path"] or info["model_path"] or ""))
    lines.append(t("finetune.status.folder", lang, path=info["folder"]))
    return "\n\n".join(lines)


def grpo_lines(m: dict, lang: str) -> list[str]:
    """A GRPO run's latest reward, KL and replies (the replies are the model's text: shown as text)."""
    if m.get("reward") is None:
        return []
    std = m["curves"].get("reward_std") or [(None, None)]
    lines = [t("finetune.grpo_status", lang, reward=f"{m['reward']:.3f}",
               std=f"{std[-1][1]:.3f}" if std[-1][1] is not None else "–",
               kl=f"{m['kl']:.4f}" if m.get("kl") is not None else "–")]
    if m.get("samples"):
        def plain(text):  # no markdown or HTML from a model's reply
            return re.sub(r"([\\`*_{}\[\]()#+!|<>~-])", r"\\\1", html.escape(" ".join(str(text).split()), quote=False))

        rows = [f"- {r['reward']:.2f} · {plain(r['prompt'])} → {plain(r['reply'])}" for r in m["samples"]]
        lines.append(t("finetune.grpo_samples", lang, step=m.get("samples_step", "–")) + "\n\n" + "\n".join(rows))
    return lines


def build(ctx: ui.ShellContext) -> dict:
    lang0 = DEFAULT_LANG
    runner = Runner()  # the app's queue; runs survive an app restart (queued ones re-queue)
    c: dict = {}
    current = gr.State(None)  # this user's run id

    c["finetune.intro"] = gr.Markdown(t("finetune.intro", lang0))
    with gr.Row():
        choices = registry.names("chat") + registry.names("base")
        c["finetune.model"] = gr.Dropdown(choices, value=choices[0], allow_custom_value=True,
                                          elem_id="ft-model", **ui.texts("finetune.model", lang0))
        c["finetune.method"] = gr.Radio(list(METHODS), value="lora", elem_id="ft-method", **ui.texts("finetune.method", lang0))
        c["finetune.objective"] = gr.Radio(list(OBJECTIVES), value="sft", elem_id="ft-objective",
                                           **ui.texts("finetune.objective", lang0))
    with gr.Row():
        c["finetune.data"] = gr.Dropdown(list(data.samples()), value="alpaca_en", elem_id="ft-data",
                                         **ui.texts("finetune.data", lang0))
        c["finetune.upload"] = gr.File(file_types=[".jsonl", ".json"], type="filepath", elem_id="ft-upload",
                                       **ui.texts("finetune.upload", lang0))
    with gr.Accordion(t("finetune.advanced", lang0), open=False) as adv:
        c["finetune.advanced"] = adv
        with gr.Row():
            c["finetune.max_steps"] = gr.Number(20, precision=0, elem_id="ft-steps", **ui.texts("finetune.max_steps", lang0))
            # Textboxes, not gr.Number: a Number field shows 0 for "no value", and blank means automatic
            c["finetune.lr"] = gr.Textbox("", elem_id="ft-lr", **ui.texts("finetune.lr", lang0))
            c["finetune.batch"] = gr.Textbox("", elem_id="ft-batch", **ui.texts("finetune.batch", lang0))
            c["finetune.accum"] = gr.Textbox("", elem_id="ft-accum", **ui.texts("finetune.accum", lang0))
            c["finetune.max_length"] = gr.Textbox("", elem_id="ft-maxlen", **ui.texts("finetune.max_length", lang0))
        with gr.Row():
            c["finetune.rank"] = gr.Number(16, precision=0, **ui.texts("finetune.rank", lang0))
            c["finetune.alpha"] = gr.Number(32, precision=0, **ui.texts("finetune.alpha", lang0))
            c["finetune.label"] = gr.Textbox("", elem_id="ft-label", **ui.texts("finetune.label", lang0))
            c["finetune.reward"] = gr.Textbox("format", elem_id="ft-reward", **ui.texts("finetune.reward", lang0))
    with gr.Row():
        c["finetune.estimate"] = gr.Button(t("finetune.estimate", lang0), elem_id="ft-estimate")
        c["finetune.preview"] = gr.Button(t("finetune.preview", lang0), elem_id="ft-preview")
        c["finetune.start"] = gr.Button(t("finetune.start", lang0), variant="primary", elem_id="ft-start")
        c["finetune.stop"] = gr.Button(t("finetune.stop", lang0), variant="stop", elem_id="ft-stop")
        c["finetune.resume"] = gr.Button(t("finetune.resume", lang0), elem_id="ft-resume")
    with gr.Row():
        est_md = gr.Markdown(elem_id="ft-estimate-out")
        est_plot = gr.BarPlot(x="part", y="MB", color="part", elem_id="ft-estimate-plot", height=220,
                              x_title=t("finetune.est.part_axis", lang0), y_title="MB",
                              **ui.texts("finetune.est_plot", lang0))
        c["finetune.est_plot"] = est_plot
    preview_out = gr.HTML(elem_id="ft-preview-out")
    status_md = gr.Markdown(t("finetune.status.none", lang0), elem_id="ft-status")
    with gr.Row():
        loss_plot = gr.LinePlot(x="step", y="value", color="series", elem_id="ft-loss", height=260, sort="x",
                                x_title=t("finetune.curve.step", lang0), y_title=t("finetune.curve.loss_axis", lang0),
                                **ui.texts("finetune.loss_plot", lang0))
        lr_plot = gr.LinePlot(x="step", y="value", color="series", elem_id="ft-lr-plot", height=260, sort="x",
                              x_title=t("finetune.curve.step", lang0), y_title=t("finetune.curve.lr", lang0),
                              y_axis_format=".1e", **ui.texts("finetune.lr_plot", lang0))
    c["finetune.loss_plot"], c["finetune.lr_plot"] = loss_plot, lr_plot
    with gr.Row():
        queue_df = gr.Dataframe(table_frame([], QUEUE_COLUMNS, lang0), elem_id="ft-queue", interactive=False,
                                **ui.texts("finetune.queue", lang0))
        c["finetune.log"] = gr.Textbox(lines=8, max_lines=8, elem_id="ft-log", **ui.texts("finetune.log", lang0))
    c["finetune.queue"] = queue_df
    with gr.Accordion(t("finetune.past", lang0), open=False, elem_id="ft-past") as past:
        c["finetune.past"] = past
        runs_df = gr.Dataframe(table_frame([], RUN_COLUMNS, lang0), interactive=False, elem_id="ft-runs")
        runs_rows = gr.State([])  # the rows shown, language-neutral: a language switch redraws the headers
        with gr.Row():
            c["finetune.pick"] = gr.Dropdown([], elem_id="ft-pick", **ui.texts("finetune.pick", lang0))
            c["finetune.refresh"] = gr.Button(t("finetune.refresh", lang0), elem_id="ft-refresh")
    with gr.Accordion(t("finetune.try", lang0), open=True) as try_acc:
        c["finetune.try"] = try_acc
        c["finetune.prompts"] = gr.Textbox(t("finetune.prompts.default", lang0), lines=3, elem_id="ft-prompts",
                                           **ui.texts("finetune.prompts", lang0))
        with gr.Row():
            c["finetune.compare"] = gr.Button(t("finetune.compare", lang0), elem_id="ft-compare")
            c["finetune.merge"] = gr.Button(t("finetune.merge", lang0), elem_id="ft-merge")
        compare_df = gr.Dataframe(table_frame([], COMPARE_COLUMNS, lang0), elem_id="ft-compare-out",
                                  interactive=False, wrap=True)
        compare_rows = gr.State([])
        merge_md = gr.Markdown(elem_id="ft-merge-out")
    timer = gr.Timer(1.5)

    form = [c["finetune.model"], c["finetune.method"], c["finetune.objective"], c["finetune.data"],
            c["finetune.upload"], c["finetune.max_steps"], c["finetune.lr"], c["finetune.batch"],
            c["finetune.accum"], c["finetune.max_length"], c["finetune.rank"], c["finetune.alpha"], c["finetune.label"],
            c["finetune.reward"]]

    def to_config(model, method, objective, sample, upload, steps, lr, batch, accum, max_len, rank, alpha, label,
                  reward="format", owner=None):
        # only a started run keeps its upload (in the owner's own folder, under a unique name)
        dataset = (data.keep_upload(upload, runner.root, owner) if owner else upload) if upload else sample
        as_int = lambda v: int(v) if v not in (None, "") and v > 0 else None  # noqa: E731 - blank = default
        return RunConfig(model=model, method=method, objective=objective, data=dataset, label=(label or "").strip(),
                         max_steps=int(steps or 20), learning_rate=blank_or_number(lr, "learning_rate"),
                         batch_size=blank_or_number(batch, "batch_size", int),
                         grad_accum=blank_or_number(accum, "grad_accum", int),
                         max_length=blank_or_number(max_len, "max_length", int),
                         lora_r=as_int(rank) or 16, lora_alpha=as_int(alpha) or 32,
                         reward=(reward or "").strip() or "format")  # grpo only (its validation checks the spec)

    @ui.friendly
    def on_estimate(model, method, objective, sample, upload, steps, lr, batch, accum, max_len, rank, alpha, label, reward, lang):
        values = (model, method, objective, sample, upload, steps, lr, batch, accum, max_len, rank, alpha, label, reward)
        from apps.finetune.config import resolve_defaults
        from apps.finetune.estimate import estimate

        est = estimate(to_config(*values))
        _, why = resolve_defaults(to_config(*values), est["device"])
        lines = [t("finetune.est.summary", lang, total=f"{est['total_mb']:.0f}", avail=f"{est['available_mb']:.0f}",
                   what=est["memory_of"], device=est["device"], params=f"{est['params'] / 1e6:.0f}M",
                   trainable=f"{est['trainable_params'] / 1e6:.2f}M", pct=f"{est['trainable_pct']:.2f}")]
        for key in ("blocker", "warning"):
            if est[key]:
                lines.append("⚠️ " + t(est[key], lang))
        lines.append(t("finetune.est.defaults", lang))
        lines += [f"- `{name}`: {t(key, lang)}" for name, key in why.items()]
        parts = dict(est["parts_mb"], overhead=est["overhead_mb"])
        frame = pd.DataFrame([{"part": t(f"finetune.part.{k}", lang), "MB": v} for k, v in parts.items()])
        return "\n".join(lines), frame

    @ui.friendly
    def on_preview(model, method, objective, sample, upload, steps, lr, batch, accum, max_len, rank, alpha, label, reward, lang):
        values = (model, method, objective, sample, upload, steps, lr, batch, accum, max_len, rank, alpha, label, reward)
        from transformers import AutoTokenizer

        from apps.models.loading import model_dir

        cfg = to_config(*values)
        dataset = data.load(cfg.data, cfg.objective)
        tokenizer = AutoTokenizer.from_pretrained(model_dir(registry.resolve(cfg.model)))
        head = t("finetune.preview.head", lang, n=len(dataset), fmt=dataset.fmt, pairs=len(dataset.pairs))
        return f"<p>{html.escape(head)}</p>" + preview_html(data.preview(tokenizer, dataset, 3, cfg.max_length or 256), lang)

    @ui.friendly
    def on_start(model, method, objective, sample, upload, steps, lr, batch, accum, max_len, rank, alpha, label, reward, lang,
                 request: gr.Request = None):
        user = ctx.user(request)
        values = (model, method, objective, sample, upload, steps, lr, batch, accum, max_len, rank, alpha, label, reward)
        ctx.quotas.training(user, int(steps or 20), 0)  # cheap checks before copying the upload
        if upload:
            ctx.quotas.upload(user, upload)
        run_id = runner.submit(to_config(*values, owner=user.folder), user=user, quotas=ctx.quotas)
        return run_id, gr.update(value=t("finetune.status.queued", lang, run_id=run_id))

    @ui.friendly
    def on_stop(run_id, lang, request: gr.Request = None):
        if not run_id:
            raise gr.Error(t("finetune.status.none", lang))
        user = ctx.user(request)
        runner.stop(run_id, user=user)
        return status_markdown(run_id, lang, runner.root, user)

    @ui.friendly
    def on_resume(run_id, lang, request: gr.Request = None):
        if not run_id:
            raise gr.Error(t("finetune.status.none", lang))
        user = ctx.user(request)
        runner.resume(run_id, user=user, quotas=ctx.quotas)
        return status_markdown(run_id, lang, runner.root, user)

    def queue_frame(user, lang):
        # everyone sees the queue's length and their place in it, only their own run ids
        return table_frame([{"finetune.col.run": r["run_id"] if may_access(user, r["owner"])
                             else msg("finetune.someone_else"),
                             "finetune.col.state": msg(f"finetune.state.{r['state']}"),
                             "finetune.col.position": r["position"]} for r in runner.queue()], QUEUE_COLUMNS, lang)

    def on_tick(run_id, lang, request: gr.Request = None):
        try:
            user = ctx.user(request)
        except Exception:  # noqa: BLE001 - signed out meanwhile: the timer shows nothing
            return t("finetune.status.none", lang), gr.update(), gr.update(), gr.update(), gr.update()
        queue = queue_frame(user, lang)
        if not run_id:
            return t("finetune.status.none", lang), gr.update(), gr.update(), queue, gr.update()
        try:
            m = runs.metrics(run_id, runner.root, user)
            md = status_markdown(run_id, lang, runner.root, user)
        except Exception:  # noqa: BLE001 - a run folder deleted under us, or not theirs: show nothing
            return t("finetune.status.none", lang), gr.update(), gr.update(), queue, gr.update()
        loss = curve_update(curve_frame(m["curves"], [("loss", t("finetune.curve.loss", lang)),
                                                      ("eval_loss", t("finetune.curve.eval", lang)),
                                                      ("reward", t("finetune.grpo_curve_reward", lang)),
                                                      ("kl", t("finetune.grpo_curve_kl", lang))]),
                            "finetune.curve.loss_axis", lang)
        lr = curve_update(curve_frame(m["curves"], [("learning_rate", t("finetune.curve.lr", lang))]),
                          "finetune.curve.lr", lang)
        return md, loss, lr, queue, runs.log_tail(run_id, runner.root, chars=3000, user=user)

    def on_refresh(lang, request: gr.Request = None):
        user = ctx.user(request)
        names = ctx.auth.store.names(user.class_id) if user.is_teacher and ctx.auth and ctx.auth.store else {}
        rows = runs.list_runs(runner.root, user)
        shown = [{"finetune.col.run": r["run_id"], "finetune.col.state": msg(f"finetune.state.{r['state']}"),
                  "finetune.col.label": r["label"], "finetune.col.loss": (r["final"] or {}).get("train_loss"),
                  "finetune.col.reason": r["reason"],
                  **({"finetune.col.owner": names.get(r["owner"], r["owner"])} if names else {})} for r in rows]
        return table_frame(shown, RUN_COLUMNS, lang), shown, gr.update(choices=[r["run_id"] for r in rows])

    @ui.friendly
    def on_compare(run_id, prompts, lang, request: gr.Request = None):
        from apps.finetune.compare import compare

        if not run_id:
            raise gr.Error(t("finetune.status.none", lang))
        user = ctx.user(request)
        runs.get_run(run_id, runner.root, user)
        ctx.quotas.generation(user, 48)
        rows = compare(ctx.cache, run_id, prompts.splitlines(), max_new_tokens=48, root=runner.root, user=user)
        shown = [{"finetune.col.prompt": r["prompt"], "finetune.col.base": r["base"], "finetune.col.tuned": r["tuned"]}
                 for r in rows]
        return table_frame(shown, COMPARE_COLUMNS, lang), shown

    @ui.friendly
    def on_merge(run_id, lang, request: gr.Request = None):
        if not run_id:
            raise gr.Error(t("finetune.status.none", lang))
        return t("finetune.merged", lang, path=runs.merge_and_export(run_id, root=runner.root, user=ctx.user(request)))

    heavy = dict(concurrency_id="finetune-heavy", concurrency_limit=1)
    c["finetune.estimate"].click(on_estimate, [*form, ctx.lang], [est_md, est_plot])
    c["finetune.preview"].click(on_preview, [*form, ctx.lang], preview_out)
    c["finetune.start"].click(on_start, [*form, ctx.lang], [current, status_md])
    c["finetune.stop"].click(on_stop, [current, ctx.lang], status_md)
    c["finetune.resume"].click(on_resume, [current, ctx.lang], status_md)
    timer.tick(on_tick, [current, ctx.lang], [status_md, loss_plot, lr_plot, queue_df, c["finetune.log"]],
               queue=False, show_progress="hidden")
    c["finetune.refresh"].click(on_refresh, ctx.lang, [runs_df, runs_rows, c["finetune.pick"]])
    c["finetune.pick"].change(lambda run_id: run_id, c["finetune.pick"], current)
    c["finetune.compare"].click(on_compare, [current, c["finetune.prompts"], ctx.lang], [compare_df, compare_rows],
                                **heavy)
    c["finetune.merge"].click(on_merge, [current, ctx.lang], merge_md, **heavy)
    # tables and plot axes follow a language switch (the queue redraws itself on the timer's next tick)
    ctx.on_lang(axis_titles, [loss_plot, lr_plot, est_plot])
    ctx.rerender(lambda lang, rows: table_frame(rows or [], RUN_COLUMNS, lang), runs_rows, runs_df)
    ctx.rerender(lambda lang, rows: table_frame(rows or [], COMPARE_COLUMNS, lang), compare_rows, compare_df)
    return c
