"""RAG tab: build an index (demo lessons or uploads) with progress, ask, and see every step —
retrieved chunks in their sources, the prompt, the cited answer, latency, a 2-D map. Wiring only:
the logic is the `rag` package. Each signed-in user has one index, saved on disk under their own
folder (apps.retrieval.library), so a restart keeps it and nobody else can search it.
"""
from __future__ import annotations

import time
from pathlib import Path

import gradio as gr

from apps import i18n, ui
from apps.i18n import DEFAULT_LANG, LANGS, msg, t
from apps.models import registry
from apps.retrieval import shown
from apps.space import mode as space_mode  # on a Space: the preloaded hub models, else the offline ones
from rag import render
from rag.answer import build_messages, show_prompt, stream_answer
from rag.chunking import STRATEGIES
from rag.embed import DEFAULT_EMBEDDER
from rag.evaluate import evaluate, load_questions
from rag.store import DEFAULT_MODE, MODES, BuildConfig, RagIndex
from rag.vectors import KINDS

L = DEFAULT_LANG
STAGES = ("load", "chunk", "embed", "index", "done")


def demo_paths(lang: str) -> list[str]:
    from curriculum import lessons

    return [str(lesson.path) for lesson in lessons(None if lang == "both" else lang)]


def question_set(lang: str) -> str:
    from curriculum import DATA_DIR

    return str(DATA_DIR / "rag" / f"lessons-{'en' if lang == 'en' else 'zh'}.jsonl")


def source_choices(lang):
    return [(t("rag.source.demo", lang), "demo"), (t("rag.source.upload", lang), "upload")]


def demo_lang_choices(lang):
    return [("中文", "zh"), ("English", "en"), (t("rag.demo_lang.both", lang), "both")]


def strategy_choices(lang):
    return [(t(f"rag.strategy.{s}", lang), s) for s in STRATEGIES]


def provider_choices(lang) -> list[tuple[str, str]]:
    from apps.tasks.providers import PRESETS

    return [(p.label[0] if lang == "zh" else p.label[1], p.key) for p in PRESETS.values()]


def make_provider(preset: str, model: str, api_key: str, lab_url: str | None = None):
    """None for a registry model run in-process; otherwise an OpenAI-compatible ProviderConfig.
    lab_url: the lab's own /v1 as this server reaches itself (the "lab" preset's address)."""
    if not preset or preset == "local":
        return None
    from apps.tasks.providers import ProviderConfig

    return ProviderConfig(preset, model=(model or "").strip() or None, api_key=(api_key or "").strip() or None,
                          lab_url=lab_url)


def model_languages(model: str, provider) -> tuple[str, ...]:
    """Languages the answering model can write: a provider's are assumed to cover both."""
    spec = registry.REGISTRY.get((model or "").strip()) if provider is None else None
    return spec.languages if spec is not None else ("zh", "en")


def generator_choices() -> list[tuple[str, str]]:
    return registry.choices()


def build_index(source, demo_lang, files, chunk_size, overlap, strategy, index_type, embedder, lang,
                progress=gr.Progress(), save=None):
    """`save(index, demo=..., demo_lang=...)`: keep the index as the user's (Library.save)."""
    paths = demo_paths(demo_lang) if source == "demo" else [f if isinstance(f, str) else f.name for f in files or []]
    names = None if source == "demo" else [Path(p).name for p in paths]  # not gradio's temp path
    if not paths:
        raise gr.Error(t("rag.no_files", lang))
    config = BuildConfig(chunk_size=int(chunk_size), overlap=int(overlap), strategy=strategy,
                         index_type=index_type, embedder=(embedder or DEFAULT_EMBEDDER).strip())
    started = time.perf_counter()
    skipped: list = []
    index = RagIndex.build(paths, config, names=names, skipped=skipped,
                           progress=lambda frac, stage: progress(frac, desc=t(f"rag.progress.{stage}", lang)))
    seconds = time.perf_counter() - started
    loaded = {c.source for c in index.chunks}
    # kept as msg() in the page's state, so the status follows a language switch (status_text)
    note = (msg("rag.status.skipped", n=len(skipped), details=[msg(e.key, **e.params) for e in skipped[:3]])
            if skipped else msg("rag.status.none_skipped"))
    status = msg("rag.status.built", sources=len(loaded), chunks=len(index.chunks), dim=index.vindex.dim,
                 index=index.vindex.kind, seconds=seconds, skipped=note)
    if save is not None:
        save(index, demo=source == "demo", demo_lang=demo_lang)
    state = {"demo": source == "demo", "demo_lang": demo_lang, "status": status}
    snap = shown.snapshot(index)
    return state, status_text(state, lang), shown.map_figure(snap, lang), snap


def status_text(state: dict | None, lang: str) -> str:
    """The index status line of the page's last build, in `lang`."""
    return i18n.render((state or {}).get("status") or msg("rag.status.none"), lang)


def _search(state, question, mode, k, rerank, lang):
    index: RagIndex = state["index"]
    result = index.search(question, k=int(k), mode=mode, rerank_with="coverage" if rerank else None, with_vector=True)
    return index, result, render.hits_html(result.hits, question, index.documents, card_labels(lang))


def _with_cards(snap: dict, index, result) -> dict:
    """The snapshot plus the hit cards in every language: the index lives server-side with its owner
    (a language switch has no request to fetch it), and five cards are a few KB."""
    return dict(snap, cards={lang: render.hits_html(result.hits, result.query, index.documents, card_labels(lang))
                             for lang in LANGS})


def card_labels(lang: str) -> dict:
    return {"score": t("rag.hits.score", lang), "dense": t("rag.hits.dense", lang),
            "lexical": t("rag.hits.lexical", lang), "chars": t("rag.hits.chars", lang),
            "empty": t("rag.hits.empty", lang)}


def search_only(state, question, mode, k, rerank, model, lang):
    """(hit cards, prompt, answer, latency plot, map, snapshot): the snapshot (apps.retrieval.shown)
    keeps what the plots and the answer show, so a language switch can draw them again."""
    index, result, cards = _search(state, question, mode, k, rerank, lang)
    prompt = show_prompt(build_messages(question, result.hits), model) if result.hits else ""
    snap = _with_cards(shown.snapshot(index, result), index, result)
    return cards, prompt, "", shown.latency_figure(snap, lang), shown.map_figure(snap, lang), snap


def ask(state, question, mode, k, rerank, model, max_tokens, preset, api_key, lang, lab_url=None):
    index, result, cards = _search(state, question, mode, k, rerank, lang)
    provider = make_provider(preset, model, api_key, lab_url)
    prompt = show_prompt(build_messages(question, result.hits), None if provider else model) if result.hits else ""
    snap = _with_cards(shown.snapshot(index, result), index, result)
    yield cards, prompt, "", shown.latency_figure(snap, lang), shown.map_figure(snap, lang), snap
    if not result.hits:
        return
    step = None
    for step in stream_answer(question, result.hits, model=model, provider=provider, max_tokens=int(max_tokens)):
        yield cards, prompt, step.text, gr.update(), gr.update(), gr.update()
    if step is None:
        return
    snap = shown.with_answer(snap, step.text, step.report, result.hits, question, model_languages(model, provider),
                             step.seconds)
    yield cards, prompt, shown.answer_markdown(snap, lang), shown.latency_figure(snap, lang), gr.update(), snap


def redraw(lang: str, snap: dict | None) -> list:
    """The answer (with its footer), latency, map and hit cards on screen, drawn again in `lang` (a
    language switch); nothing changes where nothing is shown yet."""
    if not snap:
        return [gr.update()] * 4
    answer = shown.answer_markdown(snap, lang)
    cards = (snap.get("cards") or {}).get(lang) or gr.update()
    return [gr.update(value=answer) if answer else gr.update(), shown.latency_figure(snap, lang) or gr.update(),
            shown.map_figure(snap, lang), cards]


def run_eval(state, k, rerank, lang):
    if not state.get("demo"):
        raise gr.Error(t("rag.eval.needs_demo", lang))
    questions = []
    for code in (("zh", "en") if state["demo_lang"] == "both" else (state["demo_lang"],)):
        questions += load_questions(question_set(code))
    rows = []
    for mode in MODES:
        r = evaluate(state["index"], questions, k=int(k), mode=mode, rerank_with="coverage" if rerank else None)
        rows.append(f"| {mode} | {r[f'hit@{int(k)}']:.3f} | {r['mrr']:.3f} | {r['n']} |")
    return t("rag.eval.table", lang, k=int(k), rows="\n".join(rows))


def build(ctx: ui.ShellContext) -> dict:
    from apps.retrieval.library import Library

    library = Library()

    def _mine(ctx, request, lang) -> dict:
        entry = library.current(ctx.user(request))
        if entry is None:
            raise gr.Error(t("rag.no_index", lang))
        return entry
    c: dict[str, gr.components.Component] = {}
    state = gr.State(None)  # what the last build said (for the page); the index itself is the user's, on disk
    snap = gr.State(None)  # what the plots and the answer show, language-neutral (apps.retrieval.shown)

    # The handlers below take the signed-in user from the request and work on that user's index only.
    @ui.friendly
    def on_build(source, demo_lang, files, chunk_size, overlap, strategy, index_type, embedder, lang,
                 progress=gr.Progress(), request: gr.Request = None):
        user = ctx.user(request)
        for f in files or []:
            ctx.quotas.upload(user, f if isinstance(f, str) else f.name)
        return build_index(source, demo_lang, files, chunk_size, overlap, strategy, index_type, embedder, lang,
                           progress, save=lambda index, **info: library.save(user, index, **info))

    @ui.friendly
    def on_search(_state, question, mode, k, rerank, model, lang, request: gr.Request = None):
        return search_only(_mine(ctx, request, lang), question, mode, k, rerank, model, lang)

    @ui.friendly
    def on_ask(_state, question, mode, k, rerank, model, max_tokens, preset, api_key, lang, request: gr.Request = None):
        user = ctx.user(request)
        entry = _mine(ctx, request, lang)
        ctx.quotas.generation(user, int(max_tokens))
        yield from ask(entry, question, mode, k, rerank, model, max_tokens, preset, api_key, lang,
                       lab_url=ui.lab_addresses(request)[0])

    @ui.friendly
    def on_eval(_state, k, rerank, lang, request: gr.Request = None):
        return run_eval(_mine(ctx, request, lang), k, rerank, lang)

    c["rag.intro"] = gr.Markdown(t("rag.intro", L))
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            c["rag.source"] = gr.Radio(source_choices(L), value="demo", elem_id="rag-source", **ui.texts("rag.source", L))
            c["rag.demo_lang"] = gr.Radio(demo_lang_choices(L), value="both", elem_id="rag-demo-lang",
                                          **ui.texts("rag.demo_lang", L))
            c["rag.files"] = gr.File(file_count="multiple", type="filepath", visible=False, elem_id="rag-files",
                                     file_types=[".txt", ".md", ".pdf", ".html", ".htm", ".docx"], **ui.texts("rag.files", L))
            with gr.Row():
                c["rag.chunk_size"] = gr.Slider(100, 1000, value=300, step=20, elem_id="rag-chunk-size",
                                                **ui.texts("rag.chunk_size", L))
                c["rag.overlap"] = gr.Slider(0, 300, value=60, step=10, elem_id="rag-overlap", **ui.texts("rag.overlap", L))
            c["rag.strategy"] = gr.Radio(strategy_choices(L), value="sentence", elem_id="rag-strategy",
                                         **ui.texts("rag.strategy", L))
            c["rag.index_type"] = gr.Radio(list(KINDS), value="flat", elem_id="rag-index-type",
                                           **ui.texts("rag.index_type", L))
            c["rag.embedder"] = gr.Dropdown(registry.choices(registry.EMBEDDING, exclude=None), value=space_mode.default_model("embedding")[0],
                                            allow_custom_value=True, elem_id="rag-embedder", **ui.texts("rag.embedder", L))
            c["rag.build"] = gr.Button(t("rag.build", L), variant="primary", elem_id="rag-build")
            c["rag.status"] = gr.Markdown(t("rag.status.none", L), elem_id="rag-status")
        with gr.Column(scale=2):
            c["rag.question"] = gr.Textbox(lines=2, elem_id="rag-question", **ui.texts("rag.question", L))
            with gr.Row():
                c["rag.mode"] = gr.Radio(list(MODES), value=DEFAULT_MODE, elem_id="rag-mode", **ui.texts("rag.mode", L))
                c["rag.k"] = gr.Slider(1, 10, value=5, step=1, elem_id="rag-k", **ui.texts("rag.k", L))
                c["rag.rerank"] = gr.Checkbox(False, elem_id="rag-rerank", **ui.texts("rag.rerank", L))
            with gr.Row():
                c["rag.provider"] = gr.Dropdown(provider_choices(L), value="local", elem_id="rag-provider",
                                                **ui.texts("rag.provider", L))
                c["rag.api_key"] = gr.Textbox(type="password", elem_id="rag-api-key", **ui.texts("rag.api_key", L))
            with gr.Row():
                c["rag.model"] = gr.Dropdown(generator_choices(), value=space_mode.default_model("chat")[0], allow_custom_value=True,
                                             elem_id="rag-model", **ui.texts("rag.model", L))
                c["rag.max_tokens"] = gr.Slider(16, 512, value=160, step=16, elem_id="rag-max-tokens",
                                                **ui.texts("rag.max_tokens", L))
            with gr.Row():
                c["rag.ask"] = gr.Button(t("rag.ask", L), variant="primary", elem_id="rag-ask")
                c["rag.search_only"] = gr.Button(t("rag.search_only", L), elem_id="rag-search-only")
            c["rag.answer_title"] = gr.Markdown(t("rag.answer_title", L))
            c["rag.answer"] = gr.Markdown(elem_id="rag-answer")
            c["rag.latency"] = gr.Plot(elem_id="rag-latency", **ui.texts("rag.latency", L))
    with gr.Row():
        with gr.Column(scale=3):
            c["rag.hits"] = gr.HTML(elem_id="rag-hits", **ui.texts("rag.hits", L))
        with gr.Column(scale=2):
            c["rag.map"] = gr.Plot(elem_id="rag-map", **ui.texts("rag.map", L))
    with gr.Accordion(t("rag.prompt_box", L), open=False) as c["rag.prompt_box"]:
        c["rag.prompt"] = gr.Code(language=None, elem_id="rag-prompt", **ui.texts("rag.prompt", L))
    with gr.Accordion(t("rag.eval", L), open=False) as c["rag.eval"]:
        c["rag.eval_run"] = gr.Button(t("rag.eval_run", L), elem_id="rag-eval-run")
        c["rag.eval_result"] = gr.Markdown(elem_id="rag-eval-result")

    c["rag.source"].change(lambda s: (gr.update(visible=s == "demo"), gr.update(visible=s == "upload")),
                           c["rag.source"], [c["rag.demo_lang"], c["rag.files"]], queue=False)
    build_inputs = [c["rag.source"], c["rag.demo_lang"], c["rag.files"], c["rag.chunk_size"], c["rag.overlap"],
                    c["rag.strategy"], c["rag.index_type"], c["rag.embedder"], ctx.lang]
    c["rag.build"].click(on_build, build_inputs, [state, c["rag.status"], c["rag.map"], snap],
                         concurrency_id="rag-cpu", concurrency_limit=1, api_name="build_index")
    outputs = [c["rag.hits"], c["rag.prompt"], c["rag.answer"], c["rag.latency"], c["rag.map"], snap]
    search_inputs = [state, c["rag.question"], c["rag.mode"], c["rag.k"], c["rag.rerank"], c["rag.model"]]
    ask_inputs = [*search_inputs, c["rag.max_tokens"], c["rag.provider"], c["rag.api_key"], ctx.lang]
    # Answers come from the shared batching engine and retrieval is light: many students may ask at once,
    # apart from the index builds and evaluations that compute (rag-cpu).
    c["rag.ask"].click(on_ask, ask_inputs, outputs, concurrency_id="rag-ask", concurrency_limit=16, api_name="ask")
    c["rag.question"].submit(on_ask, ask_inputs, outputs, concurrency_id="rag-ask", concurrency_limit=16)
    c["rag.search_only"].click(on_search, [*search_inputs, ctx.lang], outputs, api_name="search_only")
    c["rag.eval_run"].click(on_eval, [state, c["rag.k"], c["rag.rerank"], ctx.lang], c["rag.eval_result"],
                            concurrency_id="rag-cpu", concurrency_limit=1,
                            api_name="run_eval")
    ctx.on_lang(lambda lang: [gr.update(choices=source_choices(lang)), gr.update(choices=demo_lang_choices(lang)),
                              gr.update(choices=strategy_choices(lang)), gr.update(choices=provider_choices(lang))],
                [c["rag.source"], c["rag.demo_lang"], c["rag.strategy"], c["rag.provider"]])
    ctx.rerender(lambda lang, st: status_text(st, lang), state, c["rag.status"])
    ctx.rerender(redraw, snap, [c["rag.answer"], c["rag.latency"], c["rag.map"], c["rag.hits"]])
    return c
