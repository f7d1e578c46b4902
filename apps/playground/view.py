"""Playground tab: multi-turn chat, the token view, and the decoding comparison. Wiring only."""
from __future__ import annotations

import threading
from typing import Iterator

import gradio as gr
import pandas as pd

from apps import ui
from apps.space import mode as space_mode  # on a Space: the preloaded hub model, else the offline one
from apps.errors import LabError
from apps.i18n import DEFAULT_LANG, t
from apps.models import llamacpp, registry
from apps.models.generation import GenerationConfig, start, stream, tokenize
from apps.models.batching import Queued
from apps.playground import render, tokenview
from apps.playground.decoding import PRESETS, compare, describe, preset
from apps.space.zerogpu import OnCpu

L = DEFAULT_LANG
MAX_COMPARE = 4


def model_choices(user=None) -> list[tuple[str, str]]:
    """Registry models, then the user's own fine-tuned results (base + adapter, merged or full
    models; a teacher's include the class's). No user: the registry models only."""
    from apps.finetune import runs

    choices = registry.choices()
    choices += [(n, n) for n in registry.quantized_names()]  # apps.quantize makes them on first use
    choices += [(n, n) for n in llamacpp.served_ids()]  # GGUFs run by llama.cpp ("m@llama.cpp"), when installed
    if user is None:
        return choices
    choices += [(f"⚙ {a['label']}", registry.model_ref(a["base_model"], a["adapter_path"]))
                for a in runs.list_adapters(user=user)]
    choices += [(f"⚙ {m['label']}", m["model_path"]) for m in runs.list_tuned_models(user=user)]
    from apps.pretrain.jobs import list_models

    choices += [(f"▦ {m['label']}", m["model_path"]) for m in list_models(owner=user)]  # pretrained in the lab
    return choices


def preset_choices(lang: str) -> list[tuple[str, str]]:
    return [(t(f"playground.preset.{name}", lang), name) for name in PRESETS]


def make_config(do_sample, temperature, top_k, top_p, min_p, rep, beams, max_new, seed, stops) -> GenerationConfig:
    return GenerationConfig(
        max_new_tokens=int(max_new), do_sample=bool(do_sample), temperature=float(temperature), top_k=int(top_k),
        top_p=float(top_p), min_p=float(min_p), repetition_penalty=float(rep), num_beams=int(beams),
        seed=None if seed is None or int(seed) < 0 else int(seed),
        stop=[s.strip() for s in (stops or "").split(",") if s.strip()],
    ).validate()


def _text_of(content) -> str:
    if isinstance(content, list):  # Gradio 6 message content: a list of parts
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return content if isinstance(content, str) else str(content or "")


def _history(history) -> list[dict]:
    return [{"role": m["role"], "content": _text_of(m["content"])} for m in history or []]


def build(ctx: ui.ShellContext) -> dict:
    c: dict[str, gr.components.Component] = {}
    c["playground.intro"] = gr.Markdown(t("playground.intro", L))
    with gr.Row():
        first = model_choices(ctx.user(None) if ctx.auth is None or ctx.auth.personal else None)
        c["playground.model"] = gr.Dropdown(first, value=space_mode.default_model("chat")[0], allow_custom_value=True,
                                            elem_id="pg-model", **ui.texts("playground.model", L))
        c["playground.system"] = gr.Textbox(lines=1, scale=2, elem_id="pg-system", **ui.texts("playground.system", L))
    with gr.Row():
        with gr.Column(scale=3):
            c["playground.chatbot"] = gr.Chatbot(height=380, elem_id="pg-chat", buttons=["copy"],
                                                 **ui.texts("playground.chatbot", L))
            # lines=1 (growing to 6): Gradio sends on Enter only in a one-line box; Shift+Enter adds a line
            c["playground.input"] = gr.Textbox(lines=1, max_lines=6, elem_id="pg-input", **ui.texts("playground.input", L))
            with gr.Row():
                c["playground.send"] = gr.Button(t("playground.send", L), variant="primary", elem_id="pg-send")
                c["playground.stop"] = gr.Button(t("playground.stop", L), variant="stop", elem_id="pg-stop")
                c["playground.regenerate"] = gr.Button(t("playground.regenerate", L), elem_id="pg-regen")
                c["playground.clear"] = gr.Button(t("playground.clear", L), elem_id="pg-clear")
            stats_md = gr.Markdown("", elem_id="pg-stats")
        with gr.Column(scale=1):
            with gr.Accordion(t("playground.decoding", L), open=True) as acc:
                c["playground.decoding"] = acc
                c["playground.do_sample"] = gr.Checkbox(value=True, **ui.texts("playground.do_sample", L))
                c["playground.temperature"] = gr.Slider(0.05, 2.0, value=0.7, step=0.05, **ui.texts("playground.temperature", L))
                c["playground.top_k"] = gr.Slider(0, 200, value=0, step=1, **ui.texts("playground.top_k", L))
                c["playground.top_p"] = gr.Slider(0.05, 1.0, value=0.9, step=0.01, **ui.texts("playground.top_p", L))
                c["playground.min_p"] = gr.Slider(0.0, 0.5, value=0.0, step=0.01, **ui.texts("playground.min_p", L))
                c["playground.repetition_penalty"] = gr.Slider(1.0, 2.0, value=1.0, step=0.05, **ui.texts("playground.repetition_penalty", L))
                c["playground.num_beams"] = gr.Slider(1, 8, value=1, step=1, **ui.texts("playground.num_beams", L))
                c["playground.max_new_tokens"] = gr.Slider(1, 1024, value=128, step=1, elem_id="pg-max-new",
                                                           **ui.texts("playground.max_new_tokens", L))
                c["playground.seed"] = gr.Number(value=-1, precision=0, **ui.texts("playground.seed", L))
                c["playground.stop_strings"] = gr.Textbox(**ui.texts("playground.stop_strings", L))
    with gr.Tab(t("playground.tokens_tab", L), elem_id="pg-tokens-tab") as tokens_tab:
        c["playground.tokens_tab"] = tokens_tab
        token_note = gr.Markdown("", elem_id="pg-token-note")
        c["playground.prompt_tokens"] = gr.Markdown("**" + t("playground.prompt_tokens", L) + "**")
        prompt_count = gr.Markdown("", elem_id="pg-prompt-count")
        prompt_html = gr.HTML("", elem_id="pg-prompt-tokens")
        c["playground.rendered"] = gr.Code(language=None, interactive=False, **ui.texts("playground.rendered", L))
        c["playground.reply_tokens"] = gr.Markdown("**" + t("playground.reply_tokens", L) + "**")
        reply_html = gr.HTML("", elem_id="pg-reply-tokens")
        c["playground.prob_plot"] = gr.BarPlot(x="token", y="probability", y_lim=[0, 1], height=220,
                                               x_title=t("playground.prob_x", L), y_title=t("playground.prob_y", L),
                                               x_label_angle=-45, elem_id="pg-prob-plot",
                                               **ui.texts("playground.prob_plot", L))
        c["playground.alternatives"] = gr.Dataframe(headers=t("playground.alt_cols", L).split("|"), wrap=True,
                                                    interactive=False, **ui.texts("playground.alternatives", L))
    with gr.Tab(t("playground.reward_tab", L), elem_id="pg-reward-tab") as reward_tab:
        c["playground.reward_tab"] = reward_tab
        c["playground.reward_intro"] = gr.Markdown(t("playground.reward_intro", L))
        with gr.Row():
            c["playground.reward_model"] = gr.Dropdown([], elem_id="pg-reward-model", allow_custom_value=True,  # owner checked in score_last
                                                        **ui.texts("playground.reward_model", L))
            c["playground.reward_run"] = gr.Button(t("playground.reward_run", L), elem_id="pg-reward-run")
        reward_score = gr.State(None)  # the last score (a number): its line follows a language switch
        reward_md = gr.Markdown("", elem_id="pg-reward-score")
    with gr.Tab(t("playground.compare_tab", L), elem_id="pg-compare-tab") as compare_tab:
        c["playground.compare_tab"] = compare_tab
        c["playground.compare_intro"] = gr.Markdown(t("playground.compare_intro", L))
        c["playground.compare_prompt"] = gr.Textbox(lines=2, **ui.texts("playground.compare_prompt", L))
        with gr.Row():
            c["playground.compare_models"] = gr.Dropdown(first, value=["smollm2-135m-instruct"],
                                                         multiselect=True, max_choices=MAX_COMPARE,
                                                         **ui.texts("playground.compare_models", L))
            presets_box = gr.CheckboxGroup(preset_choices(L), value=["greedy", "balanced", "beam4"],
                                           label=t("playground.presets", L))
        c["playground.compare_run"] = gr.Button(t("playground.compare_run", L), variant="primary")
        with gr.Row():
            outs = [gr.Textbox(lines=8, interactive=False, visible=i < 3, elem_classes=["pg-compare-out"],
                               label=t("playground.compare_out", L, n=i + 1)) for i in range(MAX_COMPARE)]

    # Fine-tuned results appear as soon as a run finishes: refresh the pickers when opened.
    def my_choices(request: gr.Request):
        return gr.update(choices=model_choices(ctx.user(request)))

    for picker in (c["playground.model"], c["playground.compare_models"]):
        picker.focus(my_choices, None, picker, queue=False, api_visibility="private")

    decoding = [c[f"playground.{k}"] for k in ("do_sample", "temperature", "top_k", "top_p", "min_p",
                                               "repetition_penalty", "num_beams", "max_new_tokens", "seed",
                                               "stop_strings")]
    chatbot, box = c["playground.chatbot"], c["playground.input"]
    cancel_state = gr.State(None)  # this user's threading.Event for the generation in flight
    token_outputs = [token_note, prompt_count, prompt_html, c["playground.rendered"], reply_html,
                     c["playground.prob_plot"], c["playground.alternatives"]]

    def add_user(message, history, lang):
        if isinstance(message, str) and not message.strip():  # said once, as a toast; nothing else changes
            gr.Warning(t("gen.empty_prompt", lang))
            return gr.skip()
        return "", (history or []) + [{"role": "user", "content": message}]

    def respond(history, model_name, system, *args, lang, user="local"):
        cfg = make_config(*args)
        lm = ctx.cache.get(model_name)
        history = history or []
        messages = _history(history)
        cancel = threading.Event()
        history = history + [{"role": "assistant", "content": ""}]
        yield history, "", cancel, *[gr.update()] * len(token_outputs)
        result = None
        req = start(lm, messages, cfg, cancel=cancel, system=(system or None), user=user)
        queued = False  # a queue notice on screen, cleared by the first token
        on_cpu = ""  # ZeroGPU refused (quota spent): said once as a toast, kept in the stats line
        for chunk in ui.throttle(req.events(poll=1.0) if hasattr(req, "events") else req):
            if isinstance(chunk, Queued):  # waiting for a place in the shared batch: say where we stand
                queued = True
                yield history, t("gen.queued", lang, ahead=chunk.position), cancel, *[gr.update()] * len(token_outputs)
                continue
            if isinstance(chunk, OnCpu):
                on_cpu = t(chunk.key, lang)
                gr.Warning(on_cpu)
                yield history, on_cpu, cancel, *[gr.update()] * len(token_outputs)
                continue
            history[-1]["content"] = chunk.text
            result = chunk.result or result
            if not chunk.done:
                yield history, on_cpu if queued else gr.update(), cancel, *[gr.update()] * len(token_outputs)
                queued = False
        prompt_tokens = tokenize(lm, result.prompt)
        stats = t("playground.stats_line", lang, n=result.completion_tokens, tps=result.tokens_per_s,
                  ttft=result.ttft_s * 1000, finish=result.finish_reason)
        note = tokenview.reshaped_note(result.tokens, cfg, lang)
        labels, probs = tokenview.prob_bars(result.tokens)
        chart = gr.update(value=pd.DataFrame({"token": labels, "probability": probs}), sort=labels)
        stats = f"{on_cpu}  \n{stats}" if on_cpu else stats
        yield (history, stats + (f"  \n{note}" if note else ""), None, note,
               t("playground.prompt_count", lang, n=len(prompt_tokens)),
               tokenview.collapsed_html(prompt_tokens, render.prompt_tokens_html, lang), result.prompt,
               tokenview.collapsed_html(result.tokens, render.reply_tokens_html, lang, *tokenview.REPLY_ENDS), chart,
               pd.DataFrame(render.alternatives_rows(result.tokens), columns=t("playground.alt_cols", lang).split("|")))

    @ui.gentle  # a failure is one toast; the chat and the reply so far stay on screen
    def respond_entry(history, model_name, system, do_sample, temperature, top_k, top_p, min_p, rep, beams, max_new,
                      seed, stops, lang, request: gr.Request = None):
        if not history or history[-1].get("role") != "user":  # nothing new to answer (an empty message was refused)
            yield gr.skip()
            return
        ctx.quotas.generation(ctx.user(request), int(max_new))  # the class's limits, before any work
        yield from respond(history, model_name, system, do_sample, temperature, top_k, top_p, min_p, rep, beams,
                           max_new, seed, stops, lang=lang, user=ui.who(request))

    bot_inputs = [chatbot, c["playground.model"], c["playground.system"], *decoding, ctx.lang]
    bot_outputs = [chatbot, stats_md, cancel_state, *token_outputs]
    send_event = box.submit(add_user, [box, chatbot, ctx.lang], [box, chatbot],
                                  api_visibility="private", show_progress="hidden").then(
        respond_entry, bot_inputs, bot_outputs, api_visibility="private", **ui.GENERATE)
    click_event = c["playground.send"].click(add_user, [box, chatbot, ctx.lang], [box, chatbot],
                                  api_visibility="private", show_progress="hidden").then(
        respond_entry, bot_inputs, bot_outputs, api_visibility="private", **ui.GENERATE)

    def drop_last_reply(history):
        history = list(history or [])
        while history and history[-1]["role"] == "assistant":
            history.pop()
        return history

    regen_event = c["playground.regenerate"].click(drop_last_reply, chatbot, chatbot, queue=False,
                                                     api_visibility="private").then(
        respond_entry, bot_inputs, bot_outputs, api_visibility="private", **ui.GENERATE)

    def stop(cancel):
        if cancel is not None:
            cancel.set()

    # Setting the event ends the loop cleanly (the reply so far stays); `cancels` also frees the queue slot.
    c["playground.stop"].click(stop, cancel_state, None, queue=False, api_visibility="private",
                                cancels=[send_event, click_event, regen_event])
    def clear(lang):
        empty_alts = pd.DataFrame(columns=t("playground.alt_cols", lang).split("|"))
        return [], "", "", "", "", "", "", pd.DataFrame({"token": [], "probability": []}), empty_alts

    c["playground.clear"].click(clear, ctx.lang, [chatbot, stats_md, *token_outputs], queue=False,
                                 api_visibility="private")

    from apps.finetune.runs import runs_root

    reward_root = runs_root()  # read once, as the fine-tuning tab does

    def my_reward_models(request: gr.Request):
        from apps.align.reward import reward_runs

        runs = reward_runs(ctx.user(request), reward_root)
        return gr.update(choices=[(r["label"], r["run_id"]) for r in runs])

    c["playground.reward_model"].focus(my_reward_models, None, c["playground.reward_model"], queue=False,
                                       api_visibility="private")

    def reward_line(lang, score):
        return t("align.score.result", lang, score=score) if score is not None else ""

    @ui.friendly
    def score_last(run_id, history, lang, request: gr.Request = None):
        """The last reply of the chat, scored by one of the user's own reward models (owner checked
        in apps.align.reward.scorer_for_run; the run's folder comes from the run store)."""
        from apps.align.reward import scorer_for_run

        if not run_id:
            raise LabError("align.pick_reward")
        messages = _history(history)
        if not messages or messages[-1]["role"] != "assistant" or not messages[-1]["content"].strip():
            raise LabError("align.no_reply")
        value = float(scorer_for_run(str(run_id), ctx.user(request), reward_root)([messages[:-1]], [messages[-1]["content"]])[0])
        return value, reward_line(lang, value)

    c["playground.reward_run"].click(score_last, [c["playground.reward_model"], chatbot, ctx.lang],
                                     [reward_score, reward_md], api_visibility="private", concurrency_id="reward",
                                     concurrency_limit=1)
    ctx.rerender(reward_line, [reward_score], [reward_md])

    @ui.friendly
    def run_compare(model_names, prompt, names, max_new, seed, system, lang, request: gr.Request = None):
        if not (prompt or "").strip():
            raise gr.Error(t("gen.empty_prompt", lang))
        ctx.quotas.generation(ctx.user(request), int(max_new))
        lms = [ctx.cache.get(m) for m in (model_names or [])]
        rows = compare(lms, prompt, list(names or []), int(max_new),
                       None if seed is None or int(seed) < 0 else int(seed), system=system or None,
                       user=ui.who(request))
        updates = [gr.update(value=r.text, label=f"{m} · {t(f'playground.preset.{n}', lang)} · {describe(preset(n))}",
                             visible=True) for m, n, r in rows]
        return updates + [gr.update(visible=False)] * (MAX_COMPARE - len(updates))

    c["playground.compare_run"].click(
        run_compare, [c["playground.compare_models"], c["playground.compare_prompt"], presets_box,
                      c["playground.max_new_tokens"], c["playground.seed"], c["playground.system"], ctx.lang],
        outs, api_name="compare", **ui.GENERATE)

    def chat(message: str, history: list[dict] | None = None, model: str = "smollm2-135m-instruct",
             system: str = "", max_new_tokens: int = 128, temperature: float = 0.0, seed: int = 0,
             lang: str = "en", request: gr.Request = None) -> Iterator[str]:
        """Chat endpoint for scripts (gradio_client): streams the reply text; temperature 0 = greedy."""
        try:
            ctx.quotas.generation(ctx.user(request), int(max_new_tokens))
            cfg = GenerationConfig(max_new_tokens=int(max_new_tokens), do_sample=temperature > 0,
                                   temperature=float(temperature) if temperature > 0 else 1.0, seed=int(seed)).validate()
            messages = _history(history) + [{"role": "user", "content": message}]
            if not (message or "").strip():
                raise gr.Error(t("gen.empty_prompt", lang))
            for chunk in ui.throttle(stream(ctx.cache.get(model), messages, cfg, system=system or None,
                                            user=ui.who(request))):
                yield chunk.text
        except gr.Error:
            raise
        except Exception as exc:  # noqa: BLE001
            raise gr.Error(ui.message(exc, lang)) from exc

    gr.api(chat, api_name="chat", **ui.GENERATE)

    ctx.on_lang(lambda lang: [gr.update(choices=preset_choices(lang), label=t("playground.presets", lang)),
                              gr.update(value=pd.DataFrame(columns=t("playground.alt_cols", lang).split("|"))),
                              gr.update(x_title=t("playground.prob_x", lang), y_title=t("playground.prob_y", lang))],
                [presets_box, c["playground.alternatives"], c["playground.prob_plot"]])
    return c
