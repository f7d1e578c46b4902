"""The Roadmap tab: the six stages as a path, each with its lesson, a way to its tab, and exercises
checked by the lab's real models; the student's progress bar; a teacher panel with the class summary.

Only widgets live here: exercises, checkers and the progress database are `curriculum.*`. One
`Answers` (computed answers, cached) and one `ProgressStore` (SQLite, shared by the class) per app.
Personal mode: who a student is lives in their browser (gr.BrowserState: the typed name and a random
anonymous id), so a reload or a server restart keeps both. Classroom and Spaces modes: the student
is the signed-in user (ctx.user); the name box is gone and a typed name is ignored. Every attempt
goes to the database at once.
"""
from __future__ import annotations

import html
import tempfile
import time
import uuid
from pathlib import Path

import gradio as gr
import pandas as pd
from gradio.context import Context

from apps import ui
from apps.course import plots
from apps.errors import LabError
from apps.i18n import DEFAULT_LANG as L
from apps.i18n import lang_from_accept, t
from curriculum import exercises as ex_mod
from curriculum import lessons
from curriculum.checkers import Answers
from curriculum.progress import Attempt, ProgressStore, clean_name, teacher_ok
from curriculum.sandbox import isolation

NEW_STUDENT = {"name": "", "anon": ""}


def dom_id(exercise_id: str) -> str:
    return exercise_id.replace(".", "-").replace("_", "-")


def lesson_text(stage: str, lang: str) -> str:
    found = lessons(lang=lang, stage=stage)
    return found[0].text() if found else ""


def prompt_md(ex: ex_mod.Exercise, lang: str) -> str:
    # a numeric prompt states its own tolerance (tests/unit/test_course_exercises.py checks it does)
    return f"#### {ex.title_in(lang)}\n{ex.prompt_in(lang)}\n\n<sub>`{ex.id}`</sub>"


def progress_html(prog: dict, lang: str) -> str:
    pct = 100 * prog["n_solved"] / max(prog["n_total"], 1)
    name = prog["student"] if not prog["student"].startswith("anon-") else t("course.anonymous", lang)
    text = t("course.progress", lang, who=name, solved=prog["n_solved"], total=prog["n_total"])
    return (f'<div id="course-progress-text" data-solved="{prog["n_solved"]}">{html.escape(text)}</div>'
            '<div style="background:#e0e0e0;border-radius:6px;height:14px;margin-top:4px">'
            f'<div style="width:{pct:.1f}%;background:#2e7d32;height:14px;border-radius:6px"></div></div>')


def path_html(prog: dict, lang: str) -> str:
    """The six stages left to right, each with solved/total, green when all are solved."""
    solved = set(prog["solved"])
    boxes = []
    for stage, _tab in ex_mod.STAGES:
        ids = [e.id for e in ex_mod.exercises(stage)]
        done = sum(i in solved for i in ids)
        colour = "#c8e6c9" if done == len(ids) else "#fff9c4" if done else "#f5f5f5"
        boxes.append(f'<div style="background:{colour};border:1px solid #bbb;border-radius:8px;padding:6px 10px;'
                     f'text-align:center;min-width:96px"><b>{html.escape(t(f"course.stage.{stage}", lang))}</b><br>'
                     f'{t("course.stage_done", lang, solved=done, total=len(ids))}</div>')
    arrow = '<div style="align-self:center;font-size:20px">→</div>'
    return f'<div id="course-path-boxes" style="display:flex;flex-wrap:wrap;gap:6px">{arrow.join(boxes)}</div>'


def build(ctx: ui.ShellContext) -> dict:
    answers = Answers(ctx.cache)
    store = ProgressStore()
    all_ids = ex_mod.ids()
    c: dict[str, gr.components.Component] = {}
    relang: list[tuple] = []  # (component, fn(lang) -> update) for everything keyed per stage/exercise

    signed = ctx.auth is not None and not ctx.auth.personal
    # learner code may run for a class only where the sandbox can keep it from others' files
    code_iso = isolation(classroom=True) if signed else None
    code_off = code_iso is not None and not code_iso.ok

    def who_is(state: dict, request) -> tuple[str, str]:
        """(student, session): the signed-in user's name and id; personal mode: the browser's."""
        if signed:
            user = ctx.user(request)
            return user.name or user.id, user.id
        return state.get("name", ""), state.get("anon", "")

    def progress_of(state: dict, request=None) -> dict:
        student, session = who_is(state, request)
        return store.student_progress(student, session, all_ids, by_session=signed)

    c["course.intro"] = gr.Markdown(t("course.intro", L), elem_id="course-intro")
    student_state = gr.BrowserState(dict(NEW_STUDENT), storage_key="llmlab-course-student", secret="llmlab-course")
    with gr.Row():
        c["course.student"] = gr.Textbox(elem_id="course-student", scale=1, visible=not signed,
                                         **ui.texts("course.student", L))
        bar = gr.HTML(elem_id="course-progress")
    path = gr.HTML(elem_id="course-path")

    checks = []  # (exercise, answer box or code editor, button, verdict)
    reveals = []  # (code exercise, reveal button, solution viewer)

    def code_widgets(ex, key, relang):
        """The editor (starting from the starter code), Check, and the worked solution behind a
        teacher-only Reveal. Where a class may not run code, students see why instead."""
        if code_off:
            off = gr.Markdown(t(code_iso.reason, L), elem_id=f"course-off-{key}")
            relang.append((off, lambda lang: t(code_iso.reason, lang)))
        box = gr.Code(ex.starter(), language="python", lines=12, elem_id=f"course-a-{key}", label=t("course.code", L))
        check = gr.Button(t("course.code_check", L), variant="primary", elem_id=f"course-check-{key}")
        with gr.Accordion(t("course.solution", L), open=False) as sol_acc:
            reveal = gr.Button(t("course.reveal", L), size="sm", elem_id=f"course-reveal-{key}")
            solution = gr.Code(None, language="python", interactive=False, elem_id=f"course-solution-{key}",
                               label=t("course.solution", L))
        relang.extend([(box, lambda lang: gr.update(label=t("course.code", lang))),
                       (sol_acc, lambda lang: gr.update(label=t("course.solution", lang))),
                       (solution, lambda lang: gr.update(label=t("course.solution", lang))),
                       (reveal, lambda lang: t("course.reveal", lang))])
        return box, check, reveal, solution
    for number, (stage, tab) in enumerate(ex_mod.STAGES):
        with gr.Accordion(t(f"course.stage.{stage}", L), open=number == 0, elem_id=f"course-stage-{stage}") as acc:
            c[f"course.stage.{stage}"] = acc
            with gr.Row():
                goto = gr.Markdown(t("course.goto", L, tab=t(f"{tab}.tab", L)))
                button = gr.Button(t("course.goto_button", L), size="sm", scale=0, min_width=160,
                                   elem_id=f"course-goto-{stage}")
            # jump in the browser: the shell's tab buttons have the ids tab-<key>-button
            button.click(None, js=f"() => document.querySelector('#tab-{tab}-button')?.click()")
            relang += [(goto, lambda lang, tab=tab: t("course.goto", lang, tab=t(f"{tab}.tab", lang))),
                       (button, lambda lang: t("course.goto_button", lang))]
            with gr.Accordion(t("course.lesson", L), open=False, elem_id=f"course-lesson-acc-{stage}") as lesson_acc:
                lesson = gr.Markdown(lesson_text(stage, L), elem_id=f"course-lesson-{stage}")
            relang += [(lesson_acc, lambda lang: gr.update(label=t("course.lesson", lang))),
                       (lesson, lambda lang, stage=stage: lesson_text(stage, lang))]
            for ex in ex_mod.exercises(stage):
                key = dom_id(ex.id)
                with gr.Column(variant="panel"):
                    prompt = gr.Markdown(prompt_md(ex, L), elem_id=f"course-q-{key}")
                    if ex.kind == "code":
                        box, check, reveal, solution = code_widgets(ex, key, relang)
                        reveals.append((ex, reveal, solution))
                    else:
                        with gr.Row():
                            box = gr.Textbox(elem_id=f"course-a-{key}", scale=4, **ui.texts("course.answer", L))
                            check = gr.Button(t("course.check", L), variant="primary", scale=0, min_width=100,
                                              elem_id=f"course-check-{key}")
                        relang.append((box, lambda lang: gr.update(**ui.texts("course.answer", lang))))
                    verdict = gr.Markdown(elem_id=f"course-v-{key}")
                    with gr.Accordion(t("course.hint", L), open=False) as hint_acc:
                        hint = gr.Markdown(ex.hint_in(L), elem_id=f"course-hint-{key}")
                relang += [(prompt, lambda lang, ex=ex: prompt_md(ex, lang)),
                           (check, lambda lang, ex=ex: t("course.code_check" if ex.kind == "code" else "course.check", lang)),
                           (hint_acc, lambda lang: gr.update(label=t("course.hint", lang))),
                           (hint, lambda lang, ex=ex: ex.hint_in(lang))]
                checks.append((ex, box, check, verdict))

    with gr.Accordion(t("course.teacher", L), open=False, elem_id="course-teacher") as acc:
        c["course.teacher"] = acc
        with gr.Row():
            c["course.teacher_password"] = gr.Textbox(type="password", elem_id="course-teacher-password",
                                                      visible=not signed, **ui.texts("course.teacher_password", L))
            c["course.refresh"] = gr.Button(t("course.refresh", L), variant="primary", elem_id="course-refresh")
        summary_md = gr.Markdown(elem_id="course-summary")
        c["course.summary_plot"] = gr.Plot(elem_id="course-summary-plot", **ui.texts("course.summary_plot", L))
        c["course.students_table"] = gr.Dataframe(interactive=False, elem_id="course-students",
                                                  **ui.texts("course.students_table", L))
        with gr.Row():
            c["course.export_csv"] = gr.Button(t("course.export_csv", L), elem_id="course-export-csv")
            c["course.export_jsonl"] = gr.Button(t("course.export_jsonl", L), elem_id="course-export-jsonl")
        c["course.export_file"] = gr.File(interactive=False, height=120, elem_id="course-export-file",
                                          **ui.texts("course.export_file", L))

    # ------------------------------------------------------------ the student
    def identify(state, name, lang):
        """The state with the typed name and an anonymous id (made once per browser)."""
        state = dict(state or NEW_STUDENT)
        state["anon"] = state.get("anon") or uuid.uuid4().hex
        state["name"] = clean_name(name) if name is not None else state.get("name", "")
        return state

    def show(state, lang, request: gr.Request = None):
        prog = progress_of(state, request)
        return progress_html(prog, lang), path_html(prog, lang)

    def marks(state, lang, request=None):
        """Each exercise's verdict box: 'solved before' for those this student has solved."""
        prog = progress_of(state, request)
        return [t("course.solved_before", lang, n=prog["attempts"][ex.id]) if ex.id in prog["solved"] else ""
                for ex, *_ in checks]

    def on_load(state, request: gr.Request):
        # the language the shell is switching to at this moment (its own load event picks it the same way)
        lang = lang_from_accept(request.headers.get("accept-language") if request else None)
        state = identify(state, None, lang)
        return (state, state["name"], *show(state, lang, request), *marks(state, lang, request))

    verdicts = [v for *_, v in checks]
    Context.root_block.load(on_load, [student_state], [student_state, c["course.student"], bar, path, *verdicts],
                            queue=False, api_visibility="private")
    # The shell tells views of a language switch through on_lang (new_lang -> updates); the bar and the
    # path also need the student, so the switch writes the language into this mirror, whose change
    # event re-renders them with the student's state.
    lang_mirror = gr.Textbox(L, visible=False)
    relang.append((lang_mirror, lambda lang: lang))
    lang_mirror.change(show, [student_state, lang_mirror], [bar, path], queue=False, api_visibility="private")

    @ui.friendly
    def set_name(name, state, lang, request: gr.Request = None):
        state = identify(state, None if signed else name, lang)
        return (state, *show(state, lang, request), *marks(state, lang, request))

    gr.on([c["course.student"].submit, c["course.student"].blur], set_name, [c["course.student"], student_state, ctx.lang],
          [student_state, bar, path, *verdicts], api_visibility="private")

    # ------------------------------------------------------------ checking an answer
    def make_check(ex):
        def run(answer, name, state, lang, request: gr.Request = None):
            try:
                state = identify(state, None if signed else name, lang)
                student, session = who_is(state, request)
                if not answers.is_ready(ex):
                    yield state, t("course.computing", lang), gr.update(), gr.update()
                if ex.kind == "code":
                    yield state, t("course.code_running", lang), gr.update(), gr.update()
                    verdict = answers.check_code(ex, answer or "", lang=lang, classroom=signed,
                                                 teacher=signed and ctx.user(request).is_teacher)
                else:
                    verdict = answers.check(ex, answer)
            except LabError as exc:  # bad input: said inline, nothing recorded
                yield state, f"⚠️ {exc.message(lang)}", gr.update(), gr.update()
                return
            store.record(Attempt(exercise=ex.id, stage=ex.stage, answer=verdict.answer, correct=verdict.correct,
                                 student=student, session=session, expected=verdict.expected, lang=lang))
            if ex.kind == "code":
                text = verdict.message
            else:
                text = t("course.correct", lang, expected=verdict.expected) if verdict.correct else \
                    t("course.wrong", lang, answer=f"`{verdict.answer[:60]}`")
            yield (state, text, *show(state, lang, request))
        return ui.friendly(run)

    for ex, box, check, verdict in checks:
        fn = make_check(ex)
        code = ex.kind == "code"
        gr.on([check.click] if code else [check.click, box.submit], fn, [box, c["course.student"], student_state, ctx.lang],
              [student_state, verdict, bar, path], api_visibility="private",
              # value checks are mostly cached look-ups; code checks each start a sandboxed process
              concurrency_id="course-code" if code else "course-check", concurrency_limit=4 if code else 16)

    # ------------------------------------------------------------ the teacher
    def teacher_scope(password, lang, request) -> str | None:
        """The session prefix the teacher may see ("c3-": their class; None: everything), or refuse.
        Signed in: the teacher role decides; personal mode: $LLMLAB_TEACHER_PASSWORD as before."""
        if signed:
            user = ctx.user(request)
            if not user.is_teacher:
                raise gr.Error(t("course.teacher_denied", lang))
            return None if user.class_id is None else f"c{user.class_id}-"
        if not teacher_ok(password):
            raise gr.Error(t("course.teacher_denied", lang))
        return None

    @ui.friendly
    def summary(password, lang, request: gr.Request = None):
        data = store.class_summary(all_ids, session_prefix=teacher_scope(password, lang, request))
        table = pd.DataFrame(
            [[s["student"], s["solved"], s["attempts"], time.strftime("%Y-%m-%d %H:%M", time.localtime(s["last"]))]
             for s in data["students"]],
            columns=[t(f"course.col.{k}", lang) for k in ("student", "solved", "attempts", "last")])
        text = t("course.summary", lang, students=data["n_students"], attempts=data["n_attempts"])
        return text, plots.solve_rates(data, lang), table

    c["course.refresh"].click(summary, [c["course.teacher_password"], ctx.lang],
                              [summary_md, c["course.summary_plot"], c["course.students_table"]], api_visibility="private")

    def exporter(fmt):
        @ui.friendly
        def export(password, lang, request: gr.Request = None):
            prefix = teacher_scope(password, lang, request)
            folder = Path(tempfile.mkdtemp(prefix="llmlab-course-"))
            return str(store.export(folder / f"progress-{time.strftime('%Y%m%d-%H%M%S')}.{fmt}", session_prefix=prefix))
        return export

    def make_reveal(ex):
        @ui.friendly
        def reveal(password, lang, request: gr.Request = None):
            try:
                teacher_scope(password, lang, request)  # a student gets an error, not the solution
            except gr.Error:
                raise gr.Error(t("course.reveal_denied", lang)) from None
            return ex.solution()
        return reveal

    for ex, reveal, solution in reveals:
        reveal.click(make_reveal(ex), [c["course.teacher_password"], ctx.lang], solution, api_visibility="private")

    for fmt in ("csv", "jsonl"):
        c[f"course.export_{fmt}"].click(exporter(fmt), [c["course.teacher_password"], ctx.lang],
                                        c["course.export_file"], api_visibility="private")

    ctx.on_lang(lambda lang: [fn(lang) for _comp, fn in relang], [comp for comp, _fn in relang])
    return c
