"""Where the lab's own /v1 lives, as the server and as the learner's browser see it; copyable
client snippets for it; where each provider's key comes from; cost figures people can read.

No gradio: the API tab's view hands in what a request carries (its socket address and headers).

    own_base(("127.0.0.1", 8123))                  # 'http://127.0.0.1:8123/v1' (what the server calls)
    public_base({"host": "lab.school:8443", "x-forwarded-proto": "https"}, own)   # what a laptop calls
    snippets("http://127.0.0.1:8123/v1", "smollm2-135m-instruct")                  # {"curl": ..., "python": ...}
    format_cost(0.0, "CNY", "lab", "en")           # 'free (local)'

Two addresses, because they differ behind a proxy: the server reaches itself on the socket the
request came in on (`scope["server"]`, set by uvicorn from the socket, so no client can choose it),
while a learner's script uses the address in the browser's address bar (Host / X-Forwarded-*).
"""
from __future__ import annotations

import ipaddress
import re

from apps.i18n import t

# Presets that run on this machine or one the learner runs: no per-token bill.
LOCAL_PRESETS = ("lab", "local", "ollama", "vllm")
_HOST = re.compile(r"^[A-Za-z0-9.\-\[\]:]+$")  # a Host header worth echoing (name, IPv4, [IPv6], port)


def _host_port(host: str, port: int | None, scheme: str) -> str:
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:
        pass
    default = 443 if scheme == "https" else 80
    return host if port in (None, default) else f"{host}:{port}"


def own_base(server: tuple | None) -> str | None:
    """The lab's /v1 as this server reaches itself: the local address of the request's socket.
    server: ASGI scope["server"], (host, port) or None (unix socket / unknown) → None."""
    if not server or len(server) < 2 or not server[0]:
        return None
    host = str(server[0])
    if host in ("0.0.0.0", "::"):  # never the address of a connection, but be safe
        host = "127.0.0.1"
    return f"http://{_host_port(host, int(server[1]), 'http')}/v1"


def public_base(headers: dict, fallback: str | None) -> str | None:
    """The lab's /v1 as the learner's browser reaches it (headers lower-cased): X-Forwarded-Host /
    -Proto / -Prefix from a proxy, else Host. A header that is not a plain host name gives `fallback`."""
    first = lambda name: (headers.get(name) or "").split(",")[0].strip()  # noqa: E731
    host = first("x-forwarded-host") or first("host")
    if not host or not _HOST.match(host):
        return fallback
    scheme = first("x-forwarded-proto").lower()
    if scheme not in ("http", "https"):
        scheme = "http"
    prefix = first("x-forwarded-prefix").strip("/")
    prefix = f"/{prefix}" if prefix and re.fullmatch(r"[\w.\-/]+", prefix) else ""
    return f"{scheme}://{host}{prefix}/v1"


def snippets(base: str, model: str, key_env: str = "LLMLAB_API_KEY") -> dict[str, str]:
    """A curl command and an `openai` client script calling `base` (…/v1) with `model`.
    The key is read from `key_env` in the learner's shell, never pasted into the page."""
    base = base.rstrip("/")
    curl = (f"curl {base}/chat/completions \\\n"
            f"  -H \"Content-Type: application/json\" \\\n"
            f"  -H \"Authorization: Bearer ${key_env}\" \\\n"
            f"  -d '{{\"model\": \"{model}\", \"messages\": [{{\"role\": \"user\", \"content\": \"Hello!\"}}], "
            f"\"max_tokens\": 64}}'")
    python = ("import os\n"
              "from openai import OpenAI\n\n"
              f"client = OpenAI(base_url=\"{base}\", api_key=os.environ.get(\"{key_env}\", \"none\"))\n"
              "reply = client.chat.completions.create(\n"
              f"    model=\"{model}\",\n"
              "    messages=[{\"role\": \"user\", \"content\": \"Hello!\"}],\n"
              "    max_tokens=64,\n"
              ")\n"
              "print(reply.choices[0].message.content)\n")
    return {"curl": curl, "python": python}


def key_source(preset, lang: str) -> str:
    """One line: where `preset`'s (a providers.Preset) key comes from — its site and the
    environment variable the CLI reads — or that it needs none."""
    if preset.key == "local":
        return t("tasks.keysrc.none_local", lang)
    env = f"`{preset.env_var}`" if preset.env_var else "—"
    if preset.key_site:
        return t("tasks.keysrc.site", lang, site=preset.key_site, env=env)
    return t(f"tasks.keysrc.{'lab' if preset.key == 'lab' else 'self'}", lang, env=env)


def significant(amount: float, digits: int = 2) -> str:
    """0.000123456 → '0.00012'; 12.345 → '12'; never scientific notation."""
    if amount == 0:
        return "0"
    text = f"{amount:.{digits}g}"
    if "e" in text:  # below 1e-4 Python switches to 1.2e-05: write it out
        exponent = int(text.split("e")[1])
        text = f"{amount:.{digits - 1 - exponent}f}"
    return text


def format_cost(amount: float, currency: str | None, preset: str | None, lang: str) -> str:
    """'free (local)' for models on this machine or the learner's own server, 'free (list price
    0)' for a free remote tier, else the amount with two significant digits: '≈ 0.00012 CNY'."""
    if amount <= 0:
        return t("tasks.cost_local" if preset in LOCAL_PRESETS else "tasks.cost_zero", lang)
    if amount < 1e-6:
        return t("tasks.cost_tiny", lang, currency=currency or "")
    return f"≈ {significant(amount)} {currency or ''}".rstrip()
