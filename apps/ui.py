"""Small helpers every tab's view uses: translated labels, language switching, friendly errors.

Convention: a view's `build(ctx)` returns `{"tab.elem": component}`. For each key the string table
may hold `key` (the label, or the text of a Button/Markdown), `key.info` and `key.placeholder`.
`relabel(components, lang)` turns that into one `gr.update` per component, which is how the shell
switches the whole page between zh and en without a reload.
"""
from __future__ import annotations

import copy
import functools
import inspect
import logging
import os
import threading
import time
from dataclasses import dataclass, field

import gradio as gr
from gradio import state_holder as gradio_sessions

from apps.errors import LabError
from apps.i18n import DEFAULT_LANG, t, table
from apps.security import files, owner, policy

log = logging.getLogger(__name__)
_TEXT_VALUED = (gr.Button, gr.Markdown, gr.DownloadButton, gr.UploadButton)


def has(key: str) -> bool:
    return key in table()


def texts(key: str, lang: str = DEFAULT_LANG) -> dict:
    """Constructor kwargs (label/info/placeholder) for the component named `key`."""
    kwargs = {}
    if has(key):
        kwargs["label"] = t(key, lang)
    for extra in ("info", "placeholder"):
        if has(f"{key}.{extra}"):
            kwargs[extra] = t(f"{key}.{extra}", lang)
    return kwargs


def has_text(key: str) -> bool:
    """Whether the component named `key` has any string (label/text, info, placeholder) to switch."""
    return has(key) or has(f"{key}.info") or has(f"{key}.placeholder")


def relabel(components: dict[str, gr.components.Component], lang: str) -> list:
    """One gr.update per component (in dict order) carrying its strings in `lang`."""
    updates = []
    for key, comp in components.items():
        if not has_text(key):
            updates.append(gr.update())
        elif isinstance(comp, _TEXT_VALUED):
            updates.append(gr.update(value=t(key, lang)))
        elif isinstance(comp, (gr.Tab, gr.Accordion)):
            updates.append(gr.update(label=t(key, lang)))
        else:
            updates.append(gr.update(**texts(key, lang)))
    return updates


def unique(components: list) -> list:
    """The components in order, each once (an output named twice in one event is ambiguous)."""
    seen, out = set(), []
    for comp in components:
        if id(comp) not in seen:
            seen.add(id(comp))
            out.append(comp)
    return out


def _as_update(value) -> dict:
    return value if isinstance(value, dict) and value.get("__type__") == "update" else gr.update(value=value)


class Slots:
    """The language switch's updates, one per output; a later update for the same component is
    merged over the earlier one (a relabel's label and a re-render's value both survive)."""

    def __init__(self, outputs: list):
        self.outputs = outputs
        self.by_id = {id(o): gr.update() for o in outputs}

    def put_all(self, comps, updates) -> None:
        updates = list(updates) if isinstance(updates, (list, tuple)) else [updates]
        for comp, update in zip(comps, updates):
            self.by_id[id(comp)] = {**self.by_id[id(comp)], **_as_update(update)}

    def updates(self) -> list:
        return [self.by_id[id(o)] for o in self.outputs]


def safe_render(fn, lang: str, values: list, n: int) -> list:
    """fn(lang, *values) as a list of n updates; a failing re-render leaves its outputs as they are
    (the switch itself must never fail: the rest of the page still changes language)."""
    try:
        result = fn(lang, *values)
    except Exception:  # noqa: BLE001
        log.exception("re-render on language switch failed: %s", getattr(fn, "__qualname__", fn))
        return [gr.update()] * n
    return list(result) if isinstance(result, (list, tuple)) else [result]


# Run in the browser on a switch: set Gradio's own locale (svelte-i18n, used for "Drop File Here",
# "Error", "Use via API"…), which otherwise follows navigator.language. Gradio exports changeLocale from
# its core module; importing the already loaded module URL again returns the same instance.
LANG_DONE_JS = """(lang) => { document.body.dataset.labLang = lang; return []; }"""

GRADIO_LOCALE_JS = """(lang) => {
  const url = performance.getEntriesByType("resource").map((e) => e.name)
    .find((n) => /\\/assets\\/core-[\\w-]+\\.js$/.test(n));
  if (url) import(url).then((m) => m.changeLocale && m.changeLocale(lang === "zh" ? "zh-CN" : "en"))
    .catch(() => {});
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  return [];
}"""


def message(exc: Exception, lang: str) -> str:
    if isinstance(exc, LabError):
        return exc.message(lang)
    return t("gen.failed", lang, reason=f"{type(exc).__name__}: {exc}")


def _guarded(fn, on_error):
    """Wrap a handler (plain function or generator) that takes a parameter named `lang`: any
    exception goes to `on_error(exc, lang)`, whose return value (if it returns) is the result."""
    params = list(inspect.signature(fn).parameters)
    lang_index = params.index("lang")

    def lang_of(args, kwargs):
        return kwargs.get("lang", args[lang_index] if len(args) > lang_index else DEFAULT_LANG)

    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen_wrapper(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001
                yield on_error(exc, lang_of(args, kwargs))
        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            return on_error(exc, lang_of(args, kwargs))
    return wrapper


def _raise(exc: Exception, lang: str):
    if isinstance(exc, gr.Error):
        raise exc
    raise gr.Error(message(exc, lang)) from exc


def friendly(fn):
    """Turn a LabError (or any crash) in a handler into a gr.Error in the user's language.

    The handler must take a parameter named `lang`. Works for plain functions and generators, so a
    streaming handler that fails midway still shows a message and the app keeps serving others.
    """
    return _guarded(fn, _raise)


def notice(exc: Exception, lang: str):
    """Say what went wrong once, as a toast in the user's language, and change no output: unlike a
    gr.Error, no red "Error" badge is left over the chat, inputs and results. A LabError (something
    the user can fix) is a warning; a crash says "failed: …". Returns gr.skip() for the outputs."""
    text = exc.message if isinstance(exc, gr.Error) else message(exc, lang)
    gr.Warning(str(text))
    return gr.skip()


def gentle(fn):
    """Like `friendly`, but a failure is a toast (`notice`) and the work on screen stays as it was
    (a streamed reply keeps what it had). For handlers whose failure needs no chained step stopped."""
    return _guarded(fn, notice)


TOAST_KINDS = ("error", "warning", "info", "success")


def toast_css() -> str:
    """CSS that writes each toast's title in the page's language. Gradio 6.31 titles a toast with its
    kind, capitalised ("Error", "Warning"), as plain text: not one of its i18n strings (its locale and
    changeLocale do not reach it), and gr.Error(title=) is not shown. So the text is hidden
    (font-size 0) and drawn again by ::before from the string tables: the default language until a
    switch lands, then the language body[data-lab-lang] names (LANG_DONE_JS)."""
    from apps.i18n import LANGS

    quoted = lambda text: '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'  # noqa: E731
    # body + two classes outranks Gradio's own .toast-title.svelte-… rule
    rules = ["body .toast-title .toast-count { font-size: var(--text-lg); }"]
    for kind in TOAST_KINDS:
        rules.append(f"body .toast-title.{kind} {{ font-size: 0; }} body .toast-title.{kind}::before {{ font-size: var(--text-lg); "
                     f"content: {quoted(t(f'toast.{kind}', DEFAULT_LANG))}; }}")
        rules += [f'body[data-lab-lang="{lang}"] .toast-title.{kind}::before {{ content: {quoted(t(f"toast.{kind}", lang))}; }}'
                  for lang in LANGS if lang != DEFAULT_LANG]
    return "\n".join(rules) + "\n"


def who(request: gr.Request | None) -> str:
    """Whom a request counts against for fair shares in the generation batch: the signed-in user,
    else this browser session (a share key only, never an identity that unlocks anything)."""
    if request is None:
        return "local"
    return getattr(request, "username", None) or f"session:{getattr(request, 'session_hash', None) or '?'}"


# Handlers that only wait on the batching engine: many may wait at once (they hold no compute).
GENERATE = {"concurrency_id": "generate", "concurrency_limit": 64}


class _Streams:
    """How many throttled streams are open right now, server-wide (a counter behind a lock)."""

    def __init__(self):
        self.open = 0
        self._lock = threading.Lock()

    def __enter__(self):
        with self._lock:
            self.open += 1
        return self

    def __exit__(self, *exc):
        with self._lock:
            self.open -= 1


STREAMS = _Streams()
FULL_RATE_STREAMS = 4  # up to this many streams get every update; beyond, the server-wide rate stays flat


def throttle(chunks, every: float = 0.1):
    """Stream chunks to the browser at most every `every` seconds (each chunk's text is the whole
    reply so far, so skipped ones lose nothing); the first, queue notices and the last always go.
    Thirty students' token streams otherwise cost the server more in Gradio updates than in decoding:
    each update re-sends the whole chat under the GIL the scheduler needs. So the interval grows with
    the number of open streams (4 streams: 0.1 s each; 30: 0.75 s), keeping the updates per second
    for the whole server about constant while the first token still goes out at once."""
    last = None
    with STREAMS:
        for chunk in chunks:
            now = time.monotonic()
            gap = every * max(1.0, STREAMS.open / FULL_RATE_STREAMS)
            if last is None or getattr(chunk, "done", True) or now - last >= gap:
                last = now
                yield chunk


def _headers(request) -> dict:
    try:
        return {k.lower(): v for k, v in dict(request.headers).items()} if request is not None else {}
    except Exception:  # noqa: BLE001 - no readable headers: the single-user default applies
        return {}


def lab_addresses(request: gr.Request | None) -> tuple[str, str]:
    """(the lab's /v1 as this server reaches itself, as the learner's browser reaches it): from the
    socket the request came in on and its Host headers, so any port and any proxy work
    (apps.tasks.endpoint); without a request, the configured default."""
    from apps.tasks import endpoint
    from apps.tasks.providers import ProviderConfig

    raw = getattr(request, "request", None) if request is not None else None
    own = endpoint.own_base((getattr(raw, "scope", None) or {}).get("server")) or ProviderConfig("lab").url
    return own, endpoint.public_base(_headers(request), own)


class LazySessionState(gradio_sessions.SessionState):
    """Gradio's per-session state, without rendering the whole page's config when a session starts.

    Gradio 6's SessionState computes `config_for_block` for every block of the app the moment a new
    session_hash is seen, on the event loop: ~0.3 s and ~1.5 MB for this lab's ~970 blocks. Every
    browser tab and every API call (`/gradio_api/call/*` makes a new session each time) paid it, one
    after the other, before any handler ran: 30 students at once waited ~9 s for their first token,
    and the server kept up to 10,000 such copies. Here a block's entry is made when Gradio first
    writes it (the inputs and outputs of events run), and all of them only for a deep link: 2 ms and
    ~50 KB a session."""

    def __init__(self, blocks):
        self.blocks_config = copy.copy(blocks.default_config)
        self._app_ids = [k for k in self.blocks_config.blocks if k in blocks.blocks]
        self.config_values = {}
        self.state_data = {}
        self._state_ttl = {}
        self.is_closed = False
        self.STATE_TTL_WHEN_CLOSED = 1 if os.getenv("GRADIO_IS_E2E_TEST", None) else 3600

    @property
    def components(self):
        for k in self._app_ids:
            if k not in self.config_values and k in self.blocks_config.blocks:
                self.config_values[k] = self.blocks_config.config_for_block(k, [], self.blocks_config.blocks[k])
        yield from super().components


def lazy_sessions() -> None:
    """Make Gradio's StateHolder start sessions as LazySessionState (process-wide, idempotent)."""
    gradio_sessions.SessionState = LazySessionState


def harden(demo: gr.Blocks, lang_state: gr.State, ledger: files.UploadLedger) -> None:
    """Guard every event of `demo` in one place, before Gradio preprocesses anything:

    - files: every FileData a request names must be one of the caller's own uploads (recorded by the
      server's upload route, apps.security.middleware) or a shipped sample. Gradio's own check of
      this is skipped for an app mounted with `mount_gradio_app` and never launched, which is how
      the lab is served; this reproduces it per caller, for every handler at once.
    - errors: any exception a handler raises reaches the browser as a gr.Error in the user's
      language (LabError text, or "failed: <kind>: <reason>"), never as Gradio's bare "Error".
    - uploads: Gradio's upload route refuses files above the policy's upload limit.
    """
    original = demo.process_api
    # Gradio's upload route reads blocks.max_file_size on every upload: make it the live policy value
    # (a changed class setting applies at once); Gradio's own assignments to it are ignored.
    demo.__class__ = type("HardenedBlocks", (type(demo),), {"max_file_size": property(
        lambda self: policy.current().max_upload_bytes, lambda self, value: None)})

    async def process_api(block_fn, inputs, state=None, request=None, *args, **kwargs):
        try:
            requests = request if isinstance(request, list) and request else [request]
            for j, req in enumerate(requests):  # a batch: inputs[i][j] is request j's value for input i
                mine = inputs if len(requests) == 1 else [
                    col[j] if isinstance(col, list) and len(col) == len(requests) else col for col in inputs]
                files.check_payload(mine, owner.owner_of(_headers(req)), ledger)
            return await original(block_fn, inputs, state, request, *args, **kwargs)
        except (gr.Error, StopIteration, StopAsyncIteration):
            raise
        except Exception as exc:  # noqa: BLE001 - every failure becomes a readable message
            lang = DEFAULT_LANG
            try:
                lang = state[lang_state._id] if state is not None else DEFAULT_LANG
            except Exception:  # noqa: BLE001
                pass
            text = exc.message(lang) if isinstance(exc, LabError) else \
                t("security.handler_failed", lang, reason=f"{type(exc).__name__}: {exc}"[:300])
            raise gr.Error(text) from exc

    demo.process_api = process_api


def signed_in_line(ctx, request, lang: str) -> str:
    """'Signed in as Li Lei (student) · Sign out' for the header."""
    try:
        user = ctx.user(request)
    except LabError:
        return ""
    role = t(f"auth.role.{user.role}", lang)
    return t("auth.signed_in_as", lang, name=user.name or user.id, role=role)


@dataclass
class ShellContext:
    """What the shell hands each tab's build(): the language state and shared objects."""

    lang: gr.State
    cache: object  # apps.models.ModelCache
    auth: object = None  # apps.auth.Auth: the mode, the class database, quotas
    lang_listeners: list = field(default_factory=list)  # (fn(lang) -> updates, outputs) pairs
    rerenders: list = field(default_factory=list)  # (fn(lang, *values) -> updates, inputs, outputs)

    def user(self, request: gr.Request | None):
        """The signed-in apps.auth.User of this event (LOCAL in personal mode). Never a typed name
        or a session hash: Gradio fills request.username from auth.identify, per request."""
        from apps.auth import Auth

        auth = self.auth or Auth("personal")
        return auth.user(getattr(request, "username", None))

    @property
    def quotas(self):
        from apps.auth import Auth

        return (self.auth or Auth("personal")).quotas

    def on_lang(self, fn, outputs) -> None:
        """Extra work when the language changes (e.g. re-render a plot's captions)."""
        self.lang_listeners.append((fn, outputs))

    def rerender(self, fn, inputs, outputs) -> None:
        """Results on screen that must follow a language switch: `fn(lang, *input values)` returns
        one update (or value) per output. Keep the result language-neutral in a gr.State (numbers,
        rows, apps.i18n.msg) among `inputs`, and render it with the same function the handler uses,
        so first display and re-display cannot drift. Return gr.update() where nothing is shown yet."""
        as_list = lambda x: list(x) if isinstance(x, (list, tuple)) else [x]  # noqa: E731
        self.rerenders.append((fn, as_list(inputs), as_list(outputs)))
