"""A new Gradio session starts empty (apps.ui.LazySessionState) and still answers as Gradio's own does."""
import gradio as gr
from gradio import state_holder

from apps import ui


def _blocks():
    with gr.Blocks() as demo:
        box = gr.Textbox("hello", label="Box")
        gr.Markdown("**text**")
        note = gr.State({"kept": 1})
        gr.Button("Go").click(lambda s: s, box, box)
    return demo, box, note


def test_a_session_renders_only_what_gradio_writes_and_all_on_demand():
    demo, box, note = _blocks()
    gradios = ui.LazySessionState.__mro__[1]  # Gradio's own class, even once the lab has swapped it in
    eager, lazy = gradios(demo), ui.LazySessionState(demo)
    assert set(vars(lazy)) - {"_app_ids"} == set(vars(eager)), "Gradio's SessionState changed: review LazySessionState"
    assert lazy.config_values == {} and len(eager.config_values) >= 4
    # What an event run writes (its inputs' and outputs' values) is made on first write, as Gradio's would be.
    lazy._update_value_in_config(box._id, "typed")
    eager._update_value_in_config(box._id, "typed")
    assert list(lazy.config_values) == [box._id]
    assert lazy.config_values[box._id] == eager.config_values[box._id]
    # State values are per session, copied from the default on first read.
    lazy[note._id]["kept"] = 2
    assert ui.LazySessionState(demo)[note._id] == {"kept": 1}
    # A deep link asks for every component: the same list as Gradio's own session gives.
    assert list(lazy.components) == list(eager.components)


def test_the_lab_starts_sessions_lazily():
    ui.lazy_sessions()
    holder = state_holder.StateHolder()
    demo, _box, _note = _blocks()
    holder.set_blocks(demo)
    assert isinstance(holder["some-session"], ui.LazySessionState)
