"""The language switch's plumbing (apps/ui.py): one merged update per output, and a failing re-render
that leaves its outputs alone instead of breaking the switch for the whole page."""
import gradio as gr

from apps import ui
from apps.i18n import msg, render


def test_updates_for_one_component_merge_and_values_become_updates():
    a, b = gr.Markdown(), gr.Textbox()
    slots = ui.Slots(ui.unique([a, b, a]))
    assert slots.outputs == [a, b]
    slots.put_all([a, b], [gr.update(label="L"), "plain value"])
    slots.put_all([a], gr.update(value="text"))
    first, second = slots.updates()
    assert first["label"] == "L" and first["value"] == "text"
    assert second["value"] == "plain value" and second["__type__"] == "update"


def test_a_failing_rerender_keeps_its_outputs():
    def broken(lang, state):
        raise KeyError(state)

    assert ui.safe_render(broken, "en", [{"no": "status"}], 2) == [gr.update(), gr.update()]
    assert ui.safe_render(lambda lang, m: render(m, lang), "zh", [msg("gen.stopped")], 1) == ["已停止"]


def test_rerender_registrations_are_lists():
    ctx = ui.ShellContext(lang=None, cache=None)
    state, box = gr.State(None), gr.Markdown()
    ctx.rerender(lambda lang, s: render(s, lang), state, box)
    fn, inputs, outputs = ctx.rerenders[0]
    assert inputs == [state] and outputs == [box] and fn("en", msg("gen.stopped")) == "Stopped"
