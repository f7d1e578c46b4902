"""The pretraining tab: pick a corpus, clean it, train a tokenizer, size a model, pretrain, watch it learn.

Only widgets live here; every action calls apps.pretrain (corpus, tokenizer, architecture, jobs,
scaling). One runner is built with the tab (training runs out of process, one at a time, in a
visible queue); each user's current run id is a gr.State, and the logic layer checks that the run
belongs to the caller. A gr.Timer polls the run's metrics.jsonl and redraws curves and samples.
"""
from __future__ import annotations

import html

import gradio as gr
import pandas as pd

from apps import ui
from apps.i18n import DEFAULT_LANG, t
from apps.pretrain import architecture, corpus, jobs, scaling
from apps.pretrain.config import PretrainConfig


def _uploaded(paths) -> list[str]:
    """Uploaded files, accepted only from Gradio's upload folder: a request can name any path (Gradio
    skips its own check when the app is mounted), and training on /etc/passwd would print it back."""
    from pathlib import Path

    from gradio.utils import get_upload_folder

    from apps.errors import LabError

    folder = Path(get_upload_folder()).resolve()
    out = []
    for path in paths or []:
        path = str(getattr(path, "path", path))
        if not Path(path).resolve().is_relative_to(folder):
            raise LabError("pretrain.bad_upload")
        out.append(path)
    return out


def _fmt_s(seconds) -> str:
    if seconds is None:
        return "–"
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


def _num(value, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _frame(curves: dict, keys: list[tuple[str, str]]) -> pd.DataFrame:
    rows = [{"step": s, "value": v, "series": label} for key, label in keys for s, v in curves.get(key, [])]
    return pd.DataFrame(rows or [{"step": 0, "value": None, "series": keys[0][1]}])


def data_markdown(report: dict, removed: list, lang: str) -> str:
    text = t("pretrain.data.summary", lang, threshold=corpus.NEAR_DUP_JACCARD, **{k: report[k] for k in (
        "files", "chars_in", "paragraphs", "exact_dups", "near_dups", "kept", "chars_out", "train_paragraphs",
        "val_paragraphs")})
    if removed:
        text += "\n\n" + t("pretrain.data.removed", lang) + "\n" + "\n".join(
            "- *" + t(f"pretrain.data.{why}", lang) + f"*: {html.escape(p[:100])}" for why, p in removed[:6])
    return text


def status_markdown(info: dict, lang: str) -> str:
    m = info["metrics"]
    state = t(f"finetune.state.{info['state']}", lang)
    lines = [f"**{html.escape(info['label'])}** · {state}",
             t("pretrain.status.line", lang, step=m["step"], total=m["total_steps"] or "–", elapsed=_fmt_s(m["elapsed_s"]),
               eta=_fmt_s(m["eta_s"]), tps=f"{info['curves']['tokens_per_s'][-1][1]:.0f}" if info["curves"]["tokens_per_s"] else "–",
               seen=architecture.human(info["tokens_seen"]))]
    ppl = info["curves"]["ppl"][-1][1] if info["curves"]["ppl"] else None
    val_ppl = info["curves"]["val_ppl"][-1][1] if info["curves"]["val_ppl"] else None
    if m["loss"] is not None:
        lines.append(t("pretrain.status.loss", lang, loss=_num(m["loss"]), ppl=_num(ppl, 1), val=_num(m["eval_loss"]),
                       val_ppl=_num(val_ppl, 1)))
    if info["reason"]:
        lines.append("⚠️ " + html.escape(info["reason_zh"] if lang == "zh" else info["reason"]))
    if info["model_path"]:
        lines.append(t("pretrain.status.saved", lang, path=info["model_path"]))
    return "\n\n".join(lines)


def samples_markdown(samples: list[dict], lang: str) -> str:
    parts = [f"**{t('pretrain.samples', lang)}**"]
    for s in samples[-8:]:
        parts.append(f"- {t('pretrain.samples.step', lang, step=s['step'])} · **{html.escape(s['prompt'] or '')}**"
                     f"{html.escape((s['text'] or '').replace(chr(10), ' ⏎ '))}")
    return "\n".join(parts)


OURS = "*"  # this run's tokenizer in a comparison row, named in the page's language when drawn


def tok_view(r: dict, lang: str) -> tuple:
    """(markdown, comparison table) of a trained tokenizer (the numbers on_tokenize keeps) in `lang`."""
    head = t("pretrain.tok.summary", lang, vocab=r["vocab"], merges=r["n_merges"], tokens=r["tokens"], cpt=r["cpt"])
    show = lambda ms: " · ".join(f"`{html.escape(a)}`+`{html.escape(b)}`" for a, b in ms)  # noqa: E731
    md = (f"{head}\n\n{t('pretrain.tok.first', lang)}\n\n{show(r['first'])}\n\n{t('pretrain.tok.last', lang)}"
          f"\n\n{show(r['last'])}\n\n{t('pretrain.tok.compare', lang)}")
    rows = [{**row, "tokenizer": t("pretrain.tok.ours", lang) if row["tokenizer"] == OURS else row["tokenizer"]}
            for row in r["compare"]]
    return md, tok_frame(rows, lang)


def tok_frame(rows: list[dict], lang: str) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(rows[0]) if rows else ["tokenizer", "vocab", "zh", "en"])
    return frame.rename(columns={"tokenizer": t("pretrain.col.tokenizer", lang), "vocab": t("pretrain.col.vocab", lang)})


def est_markdown(r: dict, lang: str) -> str:
    """The size/memory/FLOPs estimate (architecture.estimate's numbers) in `lang`."""
    est, steps, h = r["est"], r["steps"], architecture.human
    md = t("pretrain.est.summary", lang, params=h(est["params"]), emb=h(est["embedding_params"]),
           non_emb=h(est["non_embedding_params"]), flops=h(est["flops_per_token_train"]), steps=steps,
           tps=est["tokens_per_step"], tokens=h(est["tokens_per_step"] * steps),
           total=h(architecture.train_flops(est, steps)), mem=f"{est['memory_mb']:.0f}", chin=h(est["chinchilla_tokens"]))
    table = "\n".join(f"| {k} | {v} MB |" for k, v in est["parts_mb"].items())
    md += f"\n\n| | |\n|---|---|\n{table}"
    if r["gpu"]:
        md += "\n\n" + t("pretrain.est.gpu", lang)
    return md


def runs_frame(rows: list[dict] | None, lang: str) -> pd.DataFrame:
    """The user's past runs (jobs.list_runs) in `lang`, headed even when empty."""
    keys = ("run", "state", "label", "preset", "loss")
    return pd.DataFrame([[r["run_id"], t(f"finetune.state.{r['state']}", lang), r["label"], r["preset"],
                          (r["final"] or {}).get("final_loss")] for r in rows or []],
                        columns=[t(f"pretrain.col.{k}", lang) for k in keys])


def queue_frame(rows: list[dict], owner, lang: str) -> pd.DataFrame:
    """The runner's queue: everyone sees its length and their place, only their own run ids."""
    from apps.auth.users import may_access

    return pd.DataFrame([[r["run_id"] if may_access(owner, r["owner"]) else t("finetune.someone_else", lang),
                          t(f"finetune.state.{r['state']}", lang), r["position"]] for r in rows],
                        columns=[t("pretrain.col.run", lang), t("pretrain.col.state", lang), "#"])


def build(ctx: ui.ShellContext) -> dict:
    lang0 = DEFAULT_LANG
    runner = jobs.make_runner()
    _owner = ctx.user  # the signed-in user (the one local user in personal mode), never a session hash
    c: dict = {}
    current = gr.State(None)  # this user's run id
    group = gr.State([])  # this user's scaling-experiment run ids

    c["pretrain.intro"] = gr.Markdown(t("pretrain.intro", lang0))
    names = list(corpus.shipped())
    with gr.Row():
        c["pretrain.corpus"] = gr.CheckboxGroup(names, value=[n for n in names if n.endswith("zh")][:2] or names[:1],
                                                elem_id="pt-corpus", **ui.texts("pretrain.corpus", lang0))
        c["pretrain.upload"] = gr.File(file_types=[".txt", ".md"], file_count="multiple", type="filepath",
                                       elem_id="pt-upload", **ui.texts("pretrain.upload", lang0))
    with gr.Row():
        c["pretrain.preset"] = gr.Dropdown(list(architecture.PRESETS), value="tiny", elem_id="pt-preset",
                                           **ui.texts("pretrain.preset", lang0))
        c["pretrain.vocab"] = gr.Number(2000, precision=0, elem_id="pt-vocab", **ui.texts("pretrain.vocab", lang0))
        c["pretrain.max_steps"] = gr.Number(300, precision=0, elem_id="pt-steps", **ui.texts("pretrain.max_steps", lang0))
        c["pretrain.seed"] = gr.Number(0, precision=0, **ui.texts("pretrain.seed", lang0))
        c["pretrain.label"] = gr.Textbox("", elem_id="pt-label", **ui.texts("pretrain.label", lang0))
    with gr.Accordion(t("pretrain.advanced", lang0), open=False) as adv:
        c["pretrain.advanced"] = adv
        with gr.Row():
            shape_keys = ("n_layers", "d_model", "n_heads", "n_kv_heads", "context", "batch")
            for key in shape_keys:
                c[f"pretrain.{key}"] = gr.Number(None, precision=0, **ui.texts(f"pretrain.{key}", lang0))
            c["pretrain.lr"] = gr.Number(None, **ui.texts("pretrain.lr", lang0))
    with gr.Row():
        for key in ("prepare", "tokenize", "estimate"):
            c[f"pretrain.{key}"] = gr.Button(t(f"pretrain.{key}", lang0), elem_id=f"pt-{key}")
    data_md = gr.Markdown(elem_id="pt-data-out")
    with gr.Row():
        tok_md = gr.Markdown(elem_id="pt-tok-out")
        c["pretrain.tok_table"] = tok_df = gr.Dataframe(tok_frame([], lang0), interactive=False, elem_id="pt-tok-compare",
                                                        **ui.texts("pretrain.tok_table", lang0))
    est_md = gr.Markdown(elem_id="pt-est-out")
    # the last results, language-neutral, re-rendered on a language switch (the timer redraws the rest)
    data_out, tok_out, est_out, runs_out = gr.State(None), gr.State(None), gr.State(None), gr.State(None)
    with gr.Row():
        c["pretrain.start"] = gr.Button(t("pretrain.start", lang0), variant="primary", elem_id="pt-start")
        c["pretrain.stop"] = gr.Button(t("pretrain.stop", lang0), variant="stop", elem_id="pt-stop")
        c["pretrain.resume"] = gr.Button(t("pretrain.resume", lang0), elem_id="pt-resume")
        c["pretrain.scaling"] = gr.Button(t("pretrain.scaling", lang0), elem_id="pt-scaling")
    status_md = gr.Markdown(t("pretrain.status.none", lang0), elem_id="pt-status")
    with gr.Row():
        loss_plot = c["pretrain.plot.loss"] = gr.LinePlot(x="step", y="value", color="series", elem_id="pt-loss",
                                                          height=260, **ui.texts("pretrain.plot.loss", lang0))
        ppl_plot = c["pretrain.plot.ppl"] = gr.LinePlot(x="step", y="value", color="series", elem_id="pt-ppl",
                                                        height=260, **ui.texts("pretrain.plot.ppl", lang0))
    with gr.Row():
        tps_plot = c["pretrain.plot.tps"] = gr.LinePlot(x="step", y="value", color="series", elem_id="pt-tps",
                                                        height=220, **ui.texts("pretrain.plot.tps", lang0))
        lr_plot = c["pretrain.plot.lr"] = gr.LinePlot(x="step", y="value", color="series", elem_id="pt-lr",
                                                      height=220, **ui.texts("pretrain.plot.lr", lang0))
    samples_md = gr.Markdown(elem_id="pt-samples")
    with gr.Row():
        scaling_plot = c["pretrain.plot.scaling"] = gr.Plot(elem_id="pt-scaling-plot",
                                                            **ui.texts("pretrain.plot.scaling", lang0))
        scaling_md = gr.Markdown(elem_id="pt-scaling-out")
    with gr.Row():
        c["pretrain.queue"] = queue_df = gr.Dataframe(queue_frame([], None, lang0), interactive=False, elem_id="pt-queue",
                                                      **ui.texts("pretrain.queue", lang0))
        c["pretrain.log"] = gr.Textbox(lines=6, max_lines=6, elem_id="pt-log", **ui.texts("pretrain.log", lang0))
    with gr.Accordion(t("pretrain.try", lang0), open=False) as try_acc:
        c["pretrain.try"] = try_acc
        with gr.Row():
            c["pretrain.prompt"] = gr.Textbox("大模型", elem_id="pt-prompt", **ui.texts("pretrain.prompt", lang0))
            c["pretrain.generate"] = gr.Button(t("pretrain.generate", lang0), elem_id="pt-generate")
        c["pretrain.output"] = gr.Textbox(lines=3, elem_id="pt-output", **ui.texts("pretrain.output", lang0))
    with gr.Accordion(t("pretrain.past", lang0), open=False) as past:
        c["pretrain.past"] = past
        c["pretrain.runs"] = runs_df = gr.Dataframe(runs_frame(None, lang0), interactive=False, elem_id="pt-runs",
                                                    **ui.texts("pretrain.runs", lang0))
        with gr.Row():
            c["pretrain.pick"] = gr.Dropdown([], elem_id="pt-pick", **ui.texts("pretrain.pick", lang0))
            c["pretrain.refresh"] = gr.Button(t("pretrain.refresh", lang0), elem_id="pt-refresh")
    timer = gr.Timer(1.5)

    form = [c["pretrain.corpus"], c["pretrain.upload"], c["pretrain.preset"], c["pretrain.vocab"],
            c["pretrain.max_steps"], c["pretrain.seed"], c["pretrain.label"]] + [
        c[f"pretrain.{k}"] for k in shape_keys] + [c["pretrain.lr"]]

    cfg_state = gr.State(None)  # the form, checked and turned into a PretrainConfig by `collect`

    @ui.friendly
    def collect(lang, names_, uploads, preset, vocab, steps, seed, label, n_layers, d_model, n_heads, n_kv_heads,
                context, batch, lr) -> PretrainConfig:
        files = [jobs.keep_upload(u) for u in _uploaded(uploads)]
        as_int = lambda v: int(v) if v not in (None, "") and v > 0 else None  # noqa: E731 - blank = preset
        cfg = PretrainConfig(corpus=list(names_ or []) + files, preset=preset, vocab_size=int(vocab or 2000),
                             max_steps=int(steps or 300), seed=int(seed or 0), label=(label or "").strip(),
                             n_layers=as_int(n_layers), d_model=as_int(d_model), n_heads=as_int(n_heads),
                             n_kv_heads=as_int(n_kv_heads), context=as_int(context), batch_size=as_int(batch),
                             learning_rate=float(lr) if lr else None)
        from apps.pretrain.config import validate

        return validate(cfg)

    def _cfg(cfg, lang) -> PretrainConfig:
        if not isinstance(cfg, PretrainConfig):  # an event replayed without its `collect` step
            raise gr.Error(t("pretrain.no_corpus", lang))
        return cfg

    @ui.friendly
    def on_prepare(cfg, lang):
        cfg = _cfg(cfg, lang)
        built = corpus.build(cfg.corpus, cfg.val_fraction, cfg.seed)
        kept = {"report": built.report, "removed": built.removed[:6]}
        return kept, data_markdown(kept["report"], kept["removed"], lang)

    @ui.friendly
    def on_tokenize(cfg, lang):
        from apps.pretrain import tokenizer as tok_mod

        cfg = _cfg(cfg, lang)
        built = corpus.build(cfg.corpus, cfg.val_fraction, cfg.seed)
        tok = tok_mod.train(built.train, cfg.vocab_size)
        merges = tok_mod.learned_merges(tok)
        text = built.text("train")
        r = {"vocab": len(tok), "n_merges": len(merges), "first": merges[:30], "last": merges[-12:],
             "tokens": len(tok(text, add_special_tokens=False)["input_ids"]),
             "cpt": f"{tok_mod.chars_per_token(tok, text):.2f}",
             "compare": tok_mod.compare({OURS: tok, **tok_mod.reference_tokenizers()}, tok_mod.compression_samples())}
        return r, *tok_view(r, lang)

    @ui.friendly
    def on_estimate(cfg, lang):
        cfg = _cfg(cfg, lang)
        shape = cfg.shape()
        r = {"est": architecture.estimate(shape, cfg.vocab_size), "steps": cfg.max_steps, "gpu": shape.for_gpu}
        return r, est_markdown(r, lang)

    def _quota(cfg: PretrainConfig, user, runs: int = 1) -> None:
        active = sum(r["state"] in ("queued", "running") for r in jobs.list_runs(user.id))
        for _ in range(runs):  # the class's step and queued-run limits, before any data work
            ctx.quotas.training(user, cfg.max_steps, active)
            active += 1

    @ui.friendly
    def on_start(cfg, lang, request: gr.Request = None):
        cfg = _cfg(cfg, lang)
        _quota(cfg, _owner(request))
        run_id = jobs.submit(runner, cfg, _owner(request))
        return run_id, t("pretrain.status.queued", lang, run_id=run_id)

    @ui.friendly
    def on_scaling(cfg, lang, request: gr.Request = None):
        cfg = _cfg(cfg, lang)
        _quota(cfg, _owner(request), runs=3)
        ids = scaling.submit(runner, cfg, _owner(request))
        return ids, ids[-1], t("pretrain.status.scaling", lang, n=len(ids))

    @ui.friendly
    def on_stop(run_id, lang, request: gr.Request = None):
        if not run_id:
            raise gr.Error(t("pretrain.no_run", lang))
        jobs.stop(runner, run_id, _owner(request))
        return status_markdown(jobs.status(run_id, _owner(request)), lang)

    @ui.friendly
    def on_resume(run_id, lang, request: gr.Request = None):
        if not run_id:
            raise gr.Error(t("pretrain.no_run", lang))
        jobs.resume(runner, run_id, _owner(request))
        return status_markdown(jobs.status(run_id, _owner(request)), lang)

    def on_tick(run_id, ids, lang, request: gr.Request = None):
        owner = _owner(request)
        queue = queue_frame(runner.queue(), owner, lang)
        keep = [gr.update()] * 6
        scaling_out = [gr.update(), gr.update()]
        if ids:
            try:
                rows = scaling.points(ids, owner)
                done = sum(r["state"] == "finished" for r in rows)
                scaling_out = [scaling.figure(rows, lang), t("pretrain.scaling.waiting", lang, done=done, n=len(rows))]
            except Exception:  # noqa: BLE001 - a deleted run folder: leave the plot as it was
                pass
        if not run_id:
            return [t("pretrain.status.none", lang), *keep, queue, *scaling_out]
        try:
            info = jobs.status(run_id, owner)
        except Exception:  # noqa: BLE001 - not ours or deleted: show nothing rather than fail the timer
            return [t("pretrain.status.none", lang), *keep, queue, *scaling_out]
        cv = info["curves"]
        from apps.finetune.runs import log_tail

        return [status_markdown(info, lang),
                _frame(cv, [("loss", t("pretrain.curve.loss", lang)), ("eval_loss", t("pretrain.curve.val", lang))]),
                _frame(cv, [("ppl", t("pretrain.curve.ppl", lang)), ("val_ppl", t("pretrain.curve.val_ppl", lang))]),
                _frame(cv, [("tokens_per_s", t("pretrain.curve.tps", lang))]),
                _frame(cv, [("learning_rate", t("pretrain.curve.lr", lang))]),
                samples_markdown(info["samples"], lang), log_tail(run_id, jobs.root(), chars=2500), queue, *scaling_out]

    def on_refresh(lang, request: gr.Request = None):
        rows = [{k: r[k] for k in ("run_id", "state", "label", "preset", "final")} for r in jobs.list_runs(_owner(request))]
        return rows, runs_frame(rows, lang), gr.update(choices=[r["run_id"] for r in rows])

    @ui.friendly
    def on_generate(run_id, prompt, lang, request: gr.Request = None):
        from apps.models.generation import GenerationConfig, generate

        if not run_id:
            raise gr.Error(t("pretrain.no_run", lang))
        info = jobs.status(run_id, _owner(request))
        if not info["model_path"]:
            raise gr.Error(t("pretrain.no_run", lang))
        lm = ctx.cache.get(info["model_path"])
        cfg = GenerationConfig(max_new_tokens=60, do_sample=True, temperature=0.8, top_k=40, seed=0, top_logprobs=0)
        return generate(lm, prompt or "", cfg).text

    heavy = dict(concurrency_id="pretrain-prep", concurrency_limit=2)
    for key, fn, outs in (("prepare", on_prepare, [data_out, data_md]), ("tokenize", on_tokenize, [tok_out, tok_md, tok_df]),
                          ("estimate", on_estimate, [est_out, est_md]), ("start", on_start, [current, status_md]),
                          ("scaling", on_scaling, [group, current, scaling_md])):
        c[f"pretrain.{key}"].click(collect, [ctx.lang, *form], cfg_state).success(fn, [cfg_state, ctx.lang], outs, **heavy)
    c["pretrain.stop"].click(on_stop, [current, ctx.lang], status_md)
    c["pretrain.resume"].click(on_resume, [current, ctx.lang], status_md)
    timer.tick(on_tick, [current, group, ctx.lang],
               [status_md, loss_plot, ppl_plot, tps_plot, lr_plot, samples_md, c["pretrain.log"], queue_df,
                scaling_plot, scaling_md], queue=False, show_progress="hidden")
    c["pretrain.refresh"].click(on_refresh, ctx.lang, [runs_out, runs_df, c["pretrain.pick"]])
    ctx.rerender(lambda lang, d, tk, est, rows: [
        data_markdown(d["report"], d["removed"], lang) if d else gr.update(),
        *(tok_view(tk, lang) if tk else (gr.update(), tok_frame([], lang))),
        est_markdown(est, lang) if est else gr.update(), runs_frame(rows, lang)],
        [data_out, tok_out, est_out, runs_out], [data_md, tok_md, tok_df, est_md, runs_df])
    c["pretrain.pick"].change(lambda run_id: run_id, c["pretrain.pick"], current)
    c["pretrain.generate"].click(on_generate, [current, c["pretrain.prompt"], ctx.lang], c["pretrain.output"],
                                 concurrency_id="pretrain-generate", concurrency_limit=2)
    return c
