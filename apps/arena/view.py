"""The arena tab: blind battles with votes, the leaderboard, automatic evals, vote files and the judge.

Only widgets live here: battles, ratings, evals and storage are the plain modules next to it. One
`Arena` per app is shared by every browser (a classroom votes into one SQLite file); each browser
keeps its own battle in a gr.State, and a vote is recorded under the signed-in user's id. The pool,
vote import/export and the judge are the teacher's (the logic refuses a student). Each user's own
fine-tuned runs join their contestant lists (named battles, evals) under the name they gave them,
as `tuned:<run id>` values that the logic checks against the signed-in user. Tables and summaries
on screen are rebuilt from the numbers when the language changes.
"""
from __future__ import annotations

import tempfile
import threading
from pathlib import Path

import gradio as gr
import pandas as pd

from apps import ui
from apps.arena import board, evals, judge, plots, ratings
from apps.arena import contestants as C
from apps.arena.battles import Arena
from apps.auth.users import require_teacher
from apps.errors import LabError
from apps.i18n import DEFAULT_LANG as L
from apps.i18n import t
from apps.models import registry
from apps.tasks.providers import PRESETS, ProviderConfig

VOTES = [("vote_a", "model_a"), ("vote_b", "model_b"), ("vote_tie", "tie"), ("vote_bad", "tie (bothbad)")]


def mode_choices(lang):
    return [(t("arena.mode.anony", lang), "anony"), (t("arena.mode.named", lang), "named")]


def source_choices(lang):
    return [(t(f"arena.source.{s}", lang), s) for s in ("all", "human", "judge", "import")]


def local_models() -> list[str]:
    """Registry models that can answer, and their int8/int4 variants (the user's fine-tuned runs are
    added per user: tuned())."""
    return [n for n in registry.names() if n not in registry.names("embedding")] + registry.quantized_names()


def tuned(user, lang, root=None) -> list[tuple[str, str]]:
    """Dropdown choices (shown, value) of the fine-tuned runs `user` may bring in."""
    return [(t("arena.tuned_choice", lang, label=label, base=base), spec)
            for label, base, spec in C.tuned_choices(user, root)]


def lb_note(lang) -> str:
    return t("arena.lb_note", lang, sd=f"{ratings.PRIOR_SD:.0f}", sd2=f"{2 * ratings.PRIOR_SD:.0f}",
             need=ratings.MIN_VOTES)


# metric names, the same in both languages (lm-evaluation-harness's); an empty table shows them too,
# not Gradio's placeholder headers "1 2 3"
PPL_COLUMNS = ("model", "perplexity", "mean_loss", "bits_per_byte", "tokens")
MC_COLUMNS = ("model", "acc", "acc_stderr", "acc_norm", "acc_norm_stderr", "n", "chance")


def frame(headers_cells) -> pd.DataFrame:
    headers, cells = headers_cells
    return pd.DataFrame(cells, columns=headers)


def _vote_buttons(active: bool):
    return [gr.update(interactive=active) for _ in VOTES]


def build(ctx: ui.ShellContext) -> dict:
    # a class's pool is kept in the class database (the teacher's edit survives a restart)
    personal = ctx.auth is None or ctx.auth.personal
    # on a shared server other users' adapters stay out of the default pool (they are their owners')
    from apps.finetune.runs import runs_root

    # the runs folder as the fine-tuning tab's runner has it (read once, when the app is built)
    arena = Arena(cache=ctx.cache, pools=getattr(ctx.auth, "store", None),
                  pool=None if personal else C.default_pool(adapters=False), runs_root=runs_root())
    c: dict[str, gr.components.Component] = {}
    pool_names = [x.name for x in arena.pool]
    c["arena.intro"] = gr.Markdown(t("arena.intro", L))

    # ------------------------------------------------------------ battle
    with gr.Tab(t("arena.battle_tab", L), elem_id="arena-battle-tab") as tab:
        c["arena.battle_tab"] = tab
        # the two translated-choice radios stay out of `c`: on_lang relabels them with their choices
        mode = gr.Radio(mode_choices(L), value="anony", elem_id="arena-mode", **ui.texts("arena.mode", L))
        # A and B in a row of their own, equal halves that shrink (min_width=0): a long fine-tuned
        # name must not push B (the tuned side of a base-vs-tuned battle) off a 1280-px screen
        with gr.Row(equal_height=True, elem_id="arena-pair"):
            c["arena.model_a"] = gr.Dropdown(pool_names, value=pool_names[0] if pool_names else None, visible=False,
                                             allow_custom_value=True, elem_id="arena-model-a", scale=1, min_width=0,
                                             **ui.texts("arena.model_a", L))
            c["arena.model_b"] = gr.Dropdown(pool_names, value=pool_names[1] if len(pool_names) > 1 else None,
                                             visible=False, allow_custom_value=True, elem_id="arena-model-b", scale=1,
                                             min_width=0, **ui.texts("arena.model_b", L))
        c["arena.prompt"] = gr.Textbox(lines=2, elem_id="arena-prompt", **ui.texts("arena.prompt", L))
        with gr.Row():
            c["arena.max_new_tokens"] = gr.Slider(8, 512, value=96, step=8, elem_id="arena-max-new",
                                                  **ui.texts("arena.max_new_tokens", L))
            c["arena.start"] = gr.Button(t("arena.start", L), variant="primary", elem_id="arena-start")
            c["arena.stop"] = gr.Button(t("arena.stop", L), variant="stop", elem_id="arena-stop")
        with gr.Row(equal_height=True, elem_id="arena-answers"):
            c["arena.resp_a"] = gr.Textbox(lines=10, interactive=False, elem_id="arena-resp-a", scale=1, min_width=0,
                                           **ui.texts("arena.resp_a", L))
            c["arena.resp_b"] = gr.Textbox(lines=10, interactive=False, elem_id="arena-resp-b", scale=1, min_width=0,
                                           **ui.texts("arena.resp_b", L))
        with gr.Row():
            for key, _w in VOTES:
                c[f"arena.{key}"] = gr.Button(t(f"arena.{key}", L), interactive=False, elem_id=f"arena-{key.replace('_', '-')}")
        reveal = gr.Markdown("", elem_id="arena-reveal")
        with gr.Accordion(t("arena.pool_acc", L), open=False) as acc:
            c["arena.pool_acc"] = acc
            c["arena.pool"] = gr.Textbox("\n".join(pool_names), lines=5, elem_id="arena-pool", **ui.texts("arena.pool", L))
            c["arena.pool_apply"] = gr.Button(t("arena.pool_apply", L), elem_id="arena-pool-apply")
            c["arena.api_key"] = gr.Textbox(type="password", elem_id="arena-api-key", **ui.texts("arena.api_key", L))
            pool_status = gr.Markdown("", elem_id="arena-pool-status")

    # ------------------------------------------------------------ leaderboard
    with gr.Tab(t("arena.lb_tab", L), elem_id="arena-lb-tab") as tab:
        c["arena.lb_tab"] = tab
        with gr.Row():
            lb_source = gr.Radio(source_choices(L), value="all", elem_id="arena-lb-source", **ui.texts("arena.lb_source", L))
            c["arena.lb_method"] = gr.Radio([("Bradley-Terry", "bt"), ("Elo", "elo")], value="bt",
                                            elem_id="arena-lb-method", **ui.texts("arena.lb_method", L))
            c["arena.lb_bootstrap"] = gr.Slider(0, 1000, value=200, step=50, elem_id="arena-lb-bootstrap",
                                                **ui.texts("arena.lb_bootstrap", L))
            c["arena.lb_k"] = gr.Number(value=4, minimum=0.5, maximum=64, elem_id="arena-lb-k", **ui.texts("arena.lb_k", L))
        c["arena.lb_refresh"] = gr.Button(t("arena.lb_refresh", L), variant="primary", elem_id="arena-lb-refresh")
        lb_stats = gr.Markdown("", elem_id="arena-lb-stats")
        lb_notes = gr.Markdown(lb_note(L), elem_id="arena-lb-note")
        c["arena.lb_table"] = gr.Dataframe(frame(board.leaderboard_table([], "bt", 4, L)), interactive=False,
                                           wrap=True, elem_id="arena-lb-table", **ui.texts("arena.lb_table", L))
        c["arena.lb_plot"] = gr.Plot(elem_id="arena-lb-plot", **ui.texts("arena.lb_plot", L))
        with gr.Row():
            c["arena.lb_winrate"] = gr.Plot(elem_id="arena-lb-winrate", **ui.texts("arena.lb_winrate", L))
            c["arena.lb_counts"] = gr.Plot(elem_id="arena-lb-counts", **ui.texts("arena.lb_counts", L))

    # ------------------------------------------------------------ automatic evals
    with gr.Tab(t("arena.ev_tab", L), elem_id="arena-ev-tab") as tab:
        c["arena.ev_tab"] = tab
        c["arena.ev_intro"] = gr.Markdown(t("arena.ev_intro", L))
        with gr.Row():
            c["arena.ev_models"] = gr.Dropdown(local_models(), value=["smollm2-135m-instruct"], multiselect=True,
                                               allow_custom_value=True, elem_id="arena-ev-models",
                                               **ui.texts("arena.ev_models", L))
            c["arena.ev_lang"] = gr.Radio([("English", "en"), ("中文", "zh")], value="en", elem_id="arena-ev-lang",
                                          **ui.texts("arena.ev_lang", L))
            c["arena.ev_limit"] = gr.Slider(1, 20, value=20, step=1, elem_id="arena-ev-limit", **ui.texts("arena.ev_limit", L))
        with gr.Row():
            c["arena.ev_ppl"] = gr.Button(t("arena.ev_ppl", L), variant="primary", elem_id="arena-ev-ppl")
            c["arena.ev_mc"] = gr.Button(t("arena.ev_mc", L), variant="primary", elem_id="arena-ev-mc")
        c["arena.ev_ppl_table"] = gr.Dataframe(pd.DataFrame(columns=PPL_COLUMNS), interactive=False, elem_id="arena-ev-ppl-table", **ui.texts("arena.ev_ppl_table", L))
        c["arena.ev_plot"] = gr.Plot(elem_id="arena-ev-plot", **ui.texts("arena.ev_plot", L))
        c["arena.ev_mc_table"] = gr.Dataframe(pd.DataFrame(columns=MC_COLUMNS), interactive=False, elem_id="arena-ev-mc-table", **ui.texts("arena.ev_mc_table", L))

    # ------------------------------------------------------------ vote files and the judge
    with gr.Tab(t("arena.io_tab", L), elem_id="arena-io-tab") as tab:
        c["arena.io_tab"] = tab
        with gr.Row():
            c["arena.io_upload"] = gr.File(file_types=[".jsonl", ".json"], type="filepath", elem_id="arena-io-upload",
                                           **ui.texts("arena.io_upload", L))
            with gr.Column():
                c["arena.io_import"] = gr.Button(t("arena.io_import", L), elem_id="arena-io-import")
                c["arena.io_export"] = gr.Button(t("arena.io_export", L), elem_id="arena-io-export")
                c["arena.io_prefs"] = gr.Button(t("arena.io_prefs", L), elem_id="arena-io-prefs")
                c["arena.io_file"] = gr.File(elem_id="arena-io-file", **ui.texts("arena.io_file", L))
        io_status = gr.Markdown("", elem_id="arena-io-status")
        c["arena.io_recent"] = gr.Dataframe(frame(board.recent_table([], L)), interactive=False, wrap=True,
                                            elem_id="arena-io-recent", **ui.texts("arena.io_recent", L))
        with gr.Accordion(t("arena.jd_acc", L), open=False) as acc:
            c["arena.jd_acc"] = acc
            c["arena.jd_intro"] = gr.Markdown(t("arena.jd_intro", L))
            with gr.Row():
                c["arena.jd_provider"] = gr.Dropdown(list(PRESETS), value="local", elem_id="arena-jd-provider",
                                                     **ui.texts("arena.jd_provider", L))
                c["arena.jd_model"] = gr.Textbox(elem_id="arena-jd-model", **ui.texts("arena.jd_model", L))
                c["arena.jd_base_url"] = gr.Textbox(elem_id="arena-jd-base-url", **ui.texts("arena.jd_base_url", L))
                c["arena.jd_key"] = gr.Textbox(type="password", elem_id="arena-jd-key", **ui.texts("arena.jd_key", L))
            c["arena.jd_prompts"] = gr.Textbox(lines=4, elem_id="arena-jd-prompts", **ui.texts("arena.jd_prompts", L))
            c["arena.jd_run"] = gr.Button(t("arena.jd_run", L), elem_id="arena-jd-run")
            jd_result = gr.Markdown("", elem_id="arena-jd-result")

    battle_state, cancel_state = gr.State(None), gr.State(None)
    lb_state = gr.State(None)  # the last leaderboard's numbers, re-rendered when the language changes
    # The shell's language switch runs outside the queue, and Gradio fires a State's change event
    # only after queued events: its on_lang listener writes the language here instead, and this
    # box's change event re-renders what the arena has on screen (it needs the user and lb_state).
    lang_echo = gr.Textbox(L, visible="hidden", interactive=False, elem_id="arena-lang-echo")
    votes = [c[f"arena.{k}"] for k, _ in VOTES]

    # ------------------------------------------------------------ handlers: battle
    def pair_choices(user, lang) -> tuple[list, object, object]:
        """The named-battle choices: the pool by name, then the user's own fine-tuned runs; defaults
        A = the first pool model, B = the newest fine-tuned run (else the second pool model)."""
        names = [x.name for x in arena.pool_for(user)]
        mine = tuned(user, lang, arena.runs_root)
        choices = [(n, n) for n in names] + mine
        a = names[0] if names else None
        b = mine[0][1] if mine else names[1] if len(names) > 1 else None
        return choices, a, b

    def on_mode(m, lang, request: gr.Request = None):
        if m != "named":
            return [gr.update(visible=False)] * 2
        try:
            choices, a, b = pair_choices(ctx.user(request), lang)
        except Exception:  # noqa: BLE001 - not signed in: Gradio refuses the page anyway
            return [gr.update(visible=True)] * 2
        return [gr.update(visible=True, choices=choices, value=a), gr.update(visible=True, choices=choices, value=b)]

    mode.change(on_mode, [mode, ctx.lang], [c["arena.model_a"], c["arena.model_b"]], queue=False,
                api_visibility="private")

    @ui.friendly
    def start(mode, model_a, model_b, prompt, max_new, api_key, lang, request: gr.Request = None):
        user = ctx.user(request)
        named = mode == "named"
        ctx.quotas.generation(user, int(max_new))
        battle = arena.new_battle(prompt, model_a if named else None, model_b if named else None, user=user)
        cancel = threading.Event()
        header = t("arena.battle_named", lang, a=battle.a.name, b=battle.b.name) if named else t("arena.battle_blind", lang)
        yield "", "", header, None, cancel, *_vote_buttons(False)
        for text_a, text_b in arena.run(battle, int(max_new), cancel, api_key=api_key or None):
            yield text_a, text_b, gr.update(), None, cancel, *[gr.update()] * len(VOTES)
        yield (battle.responses[0], battle.responses[1], header + " " + t("arena.now_vote", lang), battle, None,
               *_vote_buttons(True))

    start_inputs = [mode, c["arena.model_a"], c["arena.model_b"], c["arena.prompt"],
                    c["arena.max_new_tokens"], c["arena.api_key"], ctx.lang]
    start_outputs = [c["arena.resp_a"], c["arena.resp_b"], reveal, battle_state, cancel_state, *votes]
    # Battles only wait on the batching engine; the evals below compute and keep their own small limit.
    run_event = c["arena.start"].click(start, start_inputs, start_outputs, api_visibility="private", **ui.GENERATE)
    submit_event = c["arena.prompt"].submit(start, start_inputs, start_outputs, api_visibility="private",
                                            **ui.GENERATE)

    def stop(cancel):
        if cancel is not None:
            cancel.set()

    c["arena.stop"].click(stop, cancel_state, None, queue=False, api_visibility="private",
                          cancels=[run_event, submit_event])

    def make_vote(winner):
        @ui.friendly
        def cast(battle, lang, request: gr.Request = None):
            if battle is None:
                raise gr.Error(t("arena.no_battle", lang))
            out = arena.vote(battle, winner)
            text = t("arena.revealed", lang, a=out["model_a"], b=out["model_b"],
                     choice=t(f"arena.{dict((w, k) for k, w in VOTES)[winner]}", lang),
                     votes=board.votes_text(arena.store.count(), lang))
            return text, None, *_vote_buttons(False), recent_for(ctx.user(request), lang)
        return cast

    for key, winner in VOTES:
        c[f"arena.{key}"].click(make_vote(winner), [battle_state, ctx.lang],
                                [reveal, battle_state, *votes, c["arena.io_recent"]], api_visibility="private")

    @ui.friendly
    def apply_pool(text, lang, request: gr.Request = None):
        specs = [line.strip() for line in (text or "").splitlines() if line.strip()]
        parsed = arena.set_pool(specs, user=ctx.user(request))
        names = [p.name for p in parsed]
        return (t("arena.pool_set", lang, n=len(names)), gr.update(choices=names, value=names[0] if names else None),
                gr.update(choices=names, value=names[1] if len(names) > 1 else None))

    c["arena.pool_apply"].click(apply_pool, [c["arena.pool"], ctx.lang],
                                [pool_status, c["arena.model_a"], c["arena.model_b"]], api_visibility="private")

    # ------------------------------------------------------------ handlers: leaderboard
    def render_lb(board_state, lang):
        """(summary, table, rating plot, win-rate heatmap, count heatmap) of a computed board, in lang."""
        if not board_state:
            return "", frame(board.leaderboard_table([], "bt", 4, lang)), None, None, None
        b, rows, stats = board_state, board_state["rows"], board_state["stats"]
        summary = t("arena.lb_summary", lang, votes=board.votes_text(b["n"], lang), m=len(b["models"]),
                    voters=stats["voters"], human=stats["by_source"].get("human", 0),
                    judge=stats["by_source"].get("judge", 0), imported=stats["by_source"].get("import", 0))
        return (summary, frame(board.leaderboard_table(rows, b["method"], b["k"], lang)), plots.ratings_bar(rows, lang),
                plots.heatmap(b["win"], b["models"], "arena.plot.winrate", lang, "rate", b["order"]),
                plots.heatmap(b["count"], b["models"], "arena.plot.counts", lang, "count", b["order"]))

    @ui.friendly
    def refresh(source, method, rounds, k, lang, progress=gr.Progress()):
        records = arena.store.records(None if source == "all" else source)
        stats = arena.store.stats()
        if not records:
            raise gr.Error(t("arena.no_votes", lang))
        progress(0.2, desc=t("arena.lb_fitting", lang))
        battles = ratings.Battles.from_records(records)
        k = float(k or 4)
        rows = ratings.leaderboard(battles, method, int(rounds), k)
        win, count = ratings.matrices(battles)
        state = {"rows": rows, "models": battles.models, "n": battles.n, "method": method, "k": k, "win": win,
                 "count": count, "order": [battles.models.index(r["model"]) for r in rows], "stats": stats}
        return (*render_lb(state, lang), state)

    c["arena.lb_refresh"].click(refresh, [lb_source, c["arena.lb_method"], c["arena.lb_bootstrap"],
                                          c["arena.lb_k"], ctx.lang],
                                [lb_stats, c["arena.lb_table"], c["arena.lb_plot"], c["arena.lb_winrate"],
                                 c["arena.lb_counts"], lb_state], api_name="arena_leaderboard")

    # ------------------------------------------------------------ handlers: evals
    def picked(models, lang, user) -> list[C.Contestant]:
        """The chosen models as contestants the user may run (their own fine-tuned runs included)."""
        if not models:
            raise gr.Error(t("arena.ev_pick", lang))
        return [C.for_user(m, user, arena.runs_root) for m in models]

    @ui.friendly
    def run_ppl(models, lang_data, lang, progress=gr.Progress(), request: gr.Request = None):
        user = ctx.user(request)
        ctx.quotas.generation(user)
        models = picked(list(models or []), lang, user)
        texts, results = evals.heldout(lang_data), []
        for i, m in enumerate(models):
            progress(i / len(models), desc=m.name)
            results.append({**evals.perplexity(m, texts, cache=ctx.cache).as_dict(with_losses=True), "model": m.name})
        table = pd.DataFrame([[r[k] for k in PPL_COLUMNS] for r in results], columns=PPL_COLUMNS)
        return table, plots.token_losses(results, lang)

    c["arena.ev_ppl"].click(run_ppl, [c["arena.ev_models"], c["arena.ev_lang"], ctx.lang],
                            [c["arena.ev_ppl_table"], c["arena.ev_plot"]], concurrency_id="arena-gen",
                            api_visibility="private")

    @ui.friendly
    def run_mc(models, lang_data, limit, lang, progress=gr.Progress(), request: gr.Request = None):
        user = ctx.user(request)
        ctx.quotas.generation(user)
        models = picked(list(models or []), lang, user)
        questions = evals.load_mc(evals.mc_path(lang_data))[: int(limit)]
        rows = []
        for i, m in enumerate(models):
            def step(done, total, i=i, m=m):
                progress((i + done / total) / len(models), desc=m.name)
            res = {**evals.multiple_choice(m, questions, lang_data, cache=ctx.cache, progress=step), "model": m.name}
            rows.append([res[k] for k in MC_COLUMNS])
        return pd.DataFrame(rows, columns=MC_COLUMNS)

    c["arena.ev_mc"].click(run_mc, [c["arena.ev_models"], c["arena.ev_lang"], c["arena.ev_limit"], ctx.lang],
                           c["arena.ev_mc_table"], concurrency_id="arena-gen", api_visibility="private")

    # ------------------------------------------------------------ handlers: files and judge
    def recent(session, lang):
        """The latest votes: a student's own (session = their id), everyone's for a teacher (None)."""
        return frame(board.recent_table(arena.store.rows(30, session=session), lang))

    def recent_for(user, lang):
        return recent(None if user.is_teacher else user.id, lang)

    @ui.friendly
    def do_import(path, lang, request: gr.Request = None):
        require_teacher(ctx.user(request))
        if not path:
            raise gr.Error(t("arena.io_need_file", lang))
        added, skipped = arena.store.import_file(path)
        return (t("arena.io_imported", lang, added=board.votes_text(added, lang), skipped=skipped,
                  total=board.votes_text(arena.store.count(), lang)), recent(None, lang))

    @ui.friendly
    def do_export(lang, request: gr.Request = None):
        require_teacher(ctx.user(request))
        out = Path(tempfile.mkdtemp(prefix="llmlab-arena-")) / "arena_votes.jsonl"
        n = arena.store.export_file(out)
        return t("arena.io_exported", lang, votes=board.votes_text(n, lang)), str(out), recent(None, lang)

    @ui.friendly
    def do_prefs(lang, request: gr.Request = None):
        """The votes this user may see as DPO/reward pairs: a student's own, a teacher's class's."""
        from apps.align import prefs

        rows, counts = prefs.preferences(arena.store, ctx.user(request))
        if not rows:
            raise LabError("align.no_pairs", **counts)
        out = prefs.export_jsonl(rows, Path(tempfile.mkdtemp(prefix="llmlab-prefs-")) / "preferences.jsonl")
        return t("align.prefs.ready", lang, **counts), str(out)

    c["arena.io_prefs"].click(do_prefs, [ctx.lang], [io_status, c["arena.io_file"]], api_visibility="private")
    c["arena.io_import"].click(do_import, [c["arena.io_upload"], ctx.lang], [io_status, c["arena.io_recent"]],
                               api_visibility="private")
    c["arena.io_export"].click(do_export, [ctx.lang], [io_status, c["arena.io_file"], c["arena.io_recent"]],
                               api_visibility="private")

    @ui.friendly
    def run_judge(provider, model, base_url, key, prompts, max_new, api_key, lang, progress=gr.Progress(),
                  request: gr.Request = None):
        require_teacher(ctx.user(request))  # judge votes count on the leaderboard
        cfg = ProviderConfig(provider, base_url=base_url or None, model=model or None, api_key=key or None,
                             lab_url=ui.lab_addresses(request)[0])  # the "lab" judge: this server, on its real port
        result = judge.fill(arena, cfg, (prompts or "").splitlines(), max_new_tokens=int(max_new),
                            api_key=api_key or None, progress=lambda d, n: progress(d / n))
        agree = judge.agreement(arena.store.records())
        by = result["by_status"]
        return t("arena.jd_done", lang, judge=result["judge"], stored=board.votes_text(result["stored"], lang),
                 inconsistent=result["inconsistent"], unparsed=result["unparsed"], first=by["unparsed_first"],
                 swapped=by["unparsed_swapped"], both=by["unparsed_both"],
                 agree="-" if agree["rate"] is None else f"{agree['rate']:.0%} ({agree['compared']})")

    c["arena.jd_run"].click(run_judge, [c["arena.jd_provider"], c["arena.jd_model"], c["arena.jd_base_url"],
                                        c["arena.jd_key"], c["arena.jd_prompts"], c["arena.max_new_tokens"],
                                        c["arena.api_key"], ctx.lang], jd_result, concurrency_id="arena-gen",
                            api_visibility="private")

    def on_load(lang, request: gr.Request):
        # each user sees the pool of their class (the teacher's), their own fine-tuned runs among
        # the models, and their latest votes
        try:
            user = ctx.user(request)
            names = [x.name for x in arena.pool_for(user)]
            mine = tuned(user, lang, arena.runs_root)
        except Exception:  # noqa: BLE001 - not signed in: Gradio refuses the page anyway
            return gr.update(), gr.update(), gr.update(), gr.update(), gr.update()
        pairs = [(n, n) for n in names] + mine
        return (gr.update(value="\n".join(names)),
                gr.update(choices=pairs, value=names[0] if names else None),
                gr.update(choices=pairs, value=mine[0][1] if mine else names[1] if len(names) > 1 else None),
                gr.update(choices=[(n, n) for n in local_models()] + mine), recent_for(user, lang))

    load_outputs = [c["arena.pool"], c["arena.model_a"], c["arena.model_b"], c["arena.ev_models"], c["arena.io_recent"]]
    from gradio.context import Context

    Context.root_block.load(on_load, ctx.lang, load_outputs, queue=False, api_visibility="private")
    # a run that finished after the page was opened shows up when its lists are looked at again
    c["arena.ev_tab"].select(on_load, ctx.lang, load_outputs, queue=False, api_visibility="private")
    c["arena.io_tab"].select(on_load, ctx.lang, load_outputs, queue=False, api_visibility="private")

    def on_lang_change(lang, board_state, request: gr.Request = None):
        """Arena outputs already on screen, again in `lang`: leaderboard, latest votes, tuned names."""
        try:
            user = ctx.user(request)
            mine, latest = tuned(user, lang, arena.runs_root), recent_for(user, lang)
        except Exception:  # noqa: BLE001 - not signed in
            mine, latest = [], gr.update()
        ev = gr.update(choices=[(n, n) for n in local_models()] + mine)
        return (*render_lb(board_state, lang), latest, ev)

    lang_echo.change(on_lang_change, [lang_echo, lb_state],
                    [lb_stats, c["arena.lb_table"], c["arena.lb_plot"], c["arena.lb_winrate"], c["arena.lb_counts"],
                     c["arena.io_recent"], c["arena.ev_models"]], queue=False, api_visibility="private")

    ctx.on_lang(lambda lang: [gr.update(choices=mode_choices(lang), **ui.texts("arena.mode", lang)),
                              gr.update(choices=source_choices(lang), **ui.texts("arena.lb_source", lang)),
                              gr.update(value=lb_note(lang)), lang],
                [mode, lb_source, lb_notes, lang_echo])
    return c
