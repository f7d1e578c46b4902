"""The Class tab: the teacher's panel (roster, one student's work, settings, exports).

Only widgets live here: every action is a function of apps.auth.panel that takes the signed-in
user and refuses anyone but the class's teacher. In personal mode the tab explains the modes.
"""
from __future__ import annotations

import csv
import tempfile
import time
from pathlib import Path

import gradio as gr
import pandas as pd

from apps import ui
from apps.auth import panel
from apps.auth.store import DEFAULTS, INT_LIMITS
from apps.i18n import DEFAULT_LANG as L
from apps.i18n import msg, render, t
from curriculum.progress import iso_local

INT_KEYS = list(INT_LIMITS)


def roster_frame(rows: list[dict] | None, lang: str) -> pd.DataFrame:
    """The roster table in `lang` (headed even when empty)."""
    cols = [t(f"classroom.col.{k}", lang) for k in ("name", "role", "password")]
    return pd.DataFrame([[r["name"], t(f"auth.role.{r['role']}", lang), t("classroom.yes" if r["has_password"]
                         else "classroom.no", lang)] for r in rows or []], columns=cols)


RUN_COLS = ("run_id", "state", "label", "model", "method", "max_steps", "created")


def work_frame(runs: list[dict] | None, lang: str) -> pd.DataFrame:
    """One student's fine-tuning runs in `lang`: translated headers and states, local times."""
    rows = [[r["run_id"], t(f"finetune.state.{r['state']}", lang), r["label"], r["model"], r["method"], r["max_steps"],
             iso_local(r["created"]).replace("T", " ")[:16]] for r in runs or []]
    return pd.DataFrame(rows, columns=[t(f"classroom.runcol.{k}", lang) for k in RUN_COLS])


def work_view(work: dict | None, lang: str) -> tuple:
    """(text, runs table) of panel.student_work in `lang`; nothing shown before the first look."""
    if not work:
        return gr.update(), work_frame(None, lang)
    prog = work["progress"]
    text = t("classroom.work", lang, name=work["name"], solved=prog["n_solved"], total=prog["n_total"],
             runs=len(work["runs"]), votes=work["votes"])
    return text, work_frame(work["runs"], lang)


def build(ctx: ui.ShellContext) -> dict:
    c: dict[str, gr.components.Component] = {}
    auth = ctx.auth
    classroom = auth is not None and auth.mode == "classroom"
    c["classroom.intro"] = gr.Markdown(t("classroom.intro" if classroom else "classroom.personal", L),
                                       elem_id="classroom-intro")
    # what is on screen, language-neutral (msg / rows), re-rendered on a language switch (ctx.rerender)
    said, roster_rows, work = gr.State(None), gr.State(None), gr.State(None)
    with gr.Column(visible=classroom):
        c["classroom.refresh"] = gr.Button(t("classroom.refresh", L), variant="primary", elem_id="classroom-refresh")
        status = gr.Markdown("", elem_id="classroom-status")
        with gr.Accordion(t("classroom.roster", L), open=True) as acc:
            c["classroom.roster"] = acc
            roster_df = gr.Dataframe(roster_frame(None, L), interactive=False, elem_id="classroom-roster-table",
                                     **ui.texts("classroom.roster_table", L))
            with gr.Row():
                c["classroom.csv"] = gr.File(file_types=[".csv", ".txt"], type="filepath", elem_id="classroom-csv",
                                             **ui.texts("classroom.csv", L))
                with gr.Column():
                    c["classroom.names"] = gr.Textbox(lines=3, elem_id="classroom-names", **ui.texts("classroom.names", L))
                    c["classroom.add"] = gr.Button(t("classroom.add", L), elem_id="classroom-add")
            with gr.Row():
                c["classroom.member"] = gr.Textbox(elem_id="classroom-member", **ui.texts("classroom.member", L))
                c["classroom.reset"] = gr.Button(t("classroom.reset", L), elem_id="classroom-reset")
                c["classroom.remove"] = gr.Button(t("classroom.remove", L), variant="stop", elem_id="classroom-remove")
                c["classroom.show"] = gr.Button(t("classroom.show", L), elem_id="classroom-show")
            work_md = gr.Markdown(elem_id="classroom-work")
            work_df = gr.Dataframe(work_frame(None, L), interactive=False, elem_id="classroom-work-runs",
                                   **ui.texts("classroom.work_table", L))
        with gr.Accordion(t("classroom.settings", L), open=False) as acc:
            c["classroom.settings"] = acc
            with gr.Row():
                for key in INT_KEYS:
                    c[f"classroom.set.{key}"] = gr.Number(DEFAULTS[key], precision=0, minimum=INT_LIMITS[key][0],
                                                          maximum=INT_LIMITS[key][1], elem_id=f"classroom-set-{key}",
                                                          **ui.texts(f"classroom.set.{key}", L))
            c["classroom.set.open_join"] = gr.Checkbox(DEFAULTS["open_join"], elem_id="classroom-set-open-join",
                                                       **ui.texts("classroom.set.open_join", L))
            with gr.Row():
                c["classroom.set.models"] = gr.Textbox(lines=3, elem_id="classroom-set-models",
                                                       **ui.texts("classroom.set.models", L))
                c["classroom.set.base_urls"] = gr.Textbox(lines=3, elem_id="classroom-set-base-urls",
                                                          **ui.texts("classroom.set.base_urls", L))
            c["classroom.save"] = gr.Button(t("classroom.save", L), variant="primary", elem_id="classroom-save")
        with gr.Accordion(t("classroom.exports", L), open=False) as acc:
            c["classroom.exports"] = acc
            c["classroom.export"] = gr.Button(t("classroom.export", L), elem_id="classroom-export")
            c["classroom.export_files"] = gr.File(file_count="multiple", interactive=False, elem_id="classroom-export-files",
                                                  **ui.texts("classroom.export_files", L))

    setting_boxes = [*(c[f"classroom.set.{k}"] for k in INT_KEYS), c["classroom.set.open_join"],
                     c["classroom.set.models"], c["classroom.set.base_urls"]]

    def shown(user, status, lang) -> tuple:
        """(said, roster rows, status text, roster table) after an action: the values and their rendering."""
        rows = [{k: r[k] for k in ("name", "role", "has_password")} for r in panel.roster(auth, user)]
        return status, rows, render(status, lang), roster_frame(rows, lang)

    def settings_values(settings):
        return [*(settings[k] for k in INT_KEYS), settings["open_join"], "\n".join(settings["models"]),
                "\n".join(settings["base_urls"])]

    @ui.friendly
    def on_refresh(lang, request: gr.Request = None):
        user = ctx.user(request)
        n = len(panel.roster(auth, user))
        return (*shown(user, msg("classroom.status", n=n), lang), *settings_values(panel.settings(auth, user)))

    @ui.friendly
    def on_add(path, names, lang, request: gr.Request = None):
        user = ctx.user(request)
        out = {"added": [], "existing": []}
        if path:
            out = panel.add_from_csv(auth, user, path)
        typed = [n for n in (names or "").splitlines() if n.strip()]
        if typed:
            more = panel.add_names(auth, user, typed)
            out = {k: out[k] + more[k] for k in out}
        return shown(user, msg("classroom.added", added=len(out["added"]), existing=len(out["existing"])), lang)

    @ui.friendly
    def on_reset(name, lang, request: gr.Request = None):
        user = ctx.user(request)
        password = panel.reset_password(auth, user, name)
        return shown(user, msg("classroom.reset_done", name=name, password=password), lang)

    @ui.friendly
    def on_remove(name, lang, request: gr.Request = None):
        user = ctx.user(request)
        panel.remove(auth, user, name)
        return shown(user, msg("classroom.removed", name=name), lang)

    @ui.friendly
    def on_show(name, lang, request: gr.Request = None):
        found = panel.student_work(auth, ctx.user(request), name)
        return found, *work_view(found, lang)

    @ui.friendly
    def on_save(max_new_tokens, requests_per_minute, queued_runs, train_steps, upload_mb, open_join, models, base_urls,
                lang, request: gr.Request = None):
        values = (max_new_tokens, requests_per_minute, queued_runs, train_steps, upload_mb, open_join, models, base_urls)
        keys = [*INT_KEYS, "open_join", "models", "base_urls"]
        saved = panel.update_settings(auth, ctx.user(request), dict(zip(keys, values)))
        return msg("classroom.saved"), t("classroom.saved", lang), *settings_values(saved)

    @ui.friendly
    def on_export(lang, request: gr.Request = None):
        from apps.arena.store import VoteStore
        from curriculum.progress import ProgressStore

        user = ctx.user(request)
        rows = panel.roster(auth, user)
        folder = Path(tempfile.mkdtemp(prefix="llmlab-class-"))
        stamp = time.strftime("%Y%m%d-%H%M%S")
        roster_path = folder / f"roster-{stamp}.csv"
        with open(roster_path, "w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=["user_id", "name", "role", "has_password", "created"])
            writer.writeheader()
            writer.writerows({**r, "created": iso_local(r["created"])} for r in rows)  # a time, not epoch seconds
        progress_path = ProgressStore().export(folder / f"progress-{stamp}.csv", session_prefix=f"c{user.class_id}-")
        ids = {r["user_id"] for r in rows}
        votes_path = folder / f"votes-{stamp}.jsonl"
        from apps.arena import votefile
        from apps.arena.store import public_record

        records = [public_record(r) for r in VoteStore().records() if (r.get("llmlab") or {}).get("session") in ids]
        votefile.write(votes_path, records)
        return (msg("classroom.exported"), t("classroom.exported", lang),
                [str(roster_path), str(progress_path), str(votes_path)])

    if classroom:
        roster_out = [said, roster_rows, status, roster_df]
        c["classroom.refresh"].click(on_refresh, ctx.lang, [*roster_out, *setting_boxes], api_visibility="private")
        c["classroom.add"].click(on_add, [c["classroom.csv"], c["classroom.names"], ctx.lang], roster_out,
                                 api_visibility="private")
        c["classroom.reset"].click(on_reset, [c["classroom.member"], ctx.lang], roster_out, api_visibility="private")
        c["classroom.remove"].click(on_remove, [c["classroom.member"], ctx.lang], roster_out, api_visibility="private")
        c["classroom.show"].click(on_show, [c["classroom.member"], ctx.lang], [work, work_md, work_df],
                                  api_visibility="private")
        c["classroom.save"].click(on_save, [*setting_boxes, ctx.lang], [said, status, *setting_boxes],
                                  api_visibility="private")
        c["classroom.export"].click(on_export, ctx.lang, [said, status, c["classroom.export_files"]],
                                    api_visibility="private")
        ctx.rerender(lambda lang, m, rows, found: [render(m, lang) if m else gr.update(), roster_frame(rows, lang),
                                                   *work_view(found, lang)],
                     [said, roster_rows, work], [status, roster_df, work_md, work_df])
    return c
