"""A small load test against any OpenAI-compatible endpoint: N concurrent streaming chats at once.

    from apps.deploy.loadtest import LoadConfig, run, timeline_figure
    report = run(LoadConfig(base_url="http://127.0.0.1:7860/v1", model="smollm2-135m-instruct", streams=8))
    report["aggregate_tok_s"], report["ttft_p95_s"]        # tokens/s of all streams, time to first token
    timeline_figure(report, "en").savefig("load.png")     # one bar per stream: waiting, then generating

Per stream: when it started, when the server answered (headers and its first event), when the first
token came (TTFT) and when it ended, and how many tokens it got (the server's usage when it reports
it, else one per content chunk). The wait before the first token is where queueing shows: streams
that got no place in the batch wait while earlier ones generate. Refused streams (HTTP 429) and
failures are counted, not retried. This is bench/load.py's client as a library, for any endpoint.

A shared server (classroom, Spaces) calls only allowed URLs (apps.security.urls, the SSRF rules of
the provider presets), through the guarded client that re-checks the address when it connects.
"""
from __future__ import annotations

import json
import statistics
import threading
import time
from dataclasses import asdict, dataclass

from apps.errors import LabError

MAX_STREAMS = 32  # a lesson in concurrency, not a load generator
MAX_TOKENS = 512
PROMPT = "Write a long, detailed story about a dragon who learns to read. Use many paragraphs."


@dataclass
class LoadConfig:
    base_url: str  # ".../v1"
    model: str
    streams: int = 8
    max_tokens: int = 64
    prompt: str = PROMPT
    api_key: str | None = None  # sent as a bearer key; never stored in the report
    timeout: float = 300.0

    def validate(self) -> "LoadConfig":
        if not 1 <= self.streams <= MAX_STREAMS:
            raise LabError("gen.bad_param", name="streams", why=f"1..{MAX_STREAMS}")
        if not 1 <= self.max_tokens <= MAX_TOKENS:
            raise LabError("gen.bad_param", name="max_tokens", why=f"1..{MAX_TOKENS}")
        if not (self.model or "").strip():
            raise LabError("tasks.need_model")
        return self


def _client(cfg: LoadConfig):
    """An httpx client allowed to reach cfg.base_url (checked against the SSRF rules first)."""
    import httpx

    from apps.security import policy, urls
    from apps.tasks.providers import PRESETS

    urls.check_base_url(cfg.base_url, [p.base_url for p in PRESETS.values()])
    if policy.current().restricted:
        return urls.guarded_http_client(cfg.timeout)
    return httpx.Client(timeout=cfg.timeout, follow_redirects=False)


def _one(cfg: LoadConfig, t0: float, out: dict) -> None:
    """One streaming chat; fills `out` with times (seconds since t0), tokens and the outcome."""
    body = {"model": cfg.model, "messages": [{"role": "user", "content": cfg.prompt}], "max_tokens": cfg.max_tokens,
            "temperature": 0, "stream": True, "stream_options": {"include_usage": True}}
    headers = {"Authorization": f"Bearer {cfg.api_key}"} if cfg.api_key else {}
    out["start"] = time.perf_counter() - t0
    chunks = 0
    try:
        with _client(cfg) as client, client.stream("POST", cfg.base_url.rstrip("/") + "/chat/completions",
                                                   json=body, headers=headers) as resp:
            out["answered"] = time.perf_counter() - t0
            if resp.status_code == 429:
                out["refused"] = True
                return
            if resp.status_code != 200:
                resp.read()
                out["error"] = f"HTTP {resp.status_code}: {resp.text[:200]}"
                return
            for line in resp.iter_lines():
                if not line.startswith("data:") or line.strip() == "data: [DONE]":
                    continue
                event = json.loads(line[5:])
                if "error" in event:
                    out["error"] = str(event["error"].get("message", event["error"]))[:200]
                    return
                for choice in event.get("choices") or []:
                    if (choice.get("delta") or {}).get("content"):
                        chunks += 1
                        out.setdefault("first_token", time.perf_counter() - t0)
                if event.get("usage"):
                    out["tokens"] = event["usage"].get("completion_tokens") or 0
        out.setdefault("tokens", chunks)
        out["end"] = time.perf_counter() - t0
    except LabError as exc:
        out["error"] = exc.message("en")
    except Exception as exc:  # noqa: BLE001 - counted and shown; the other streams go on
        out["error"] = f"{type(exc).__name__}: {exc}"[:200]


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(round(q * (len(values) - 1))))], 3)


def run(cfg: LoadConfig) -> dict:
    """Start cfg.streams chats at once; return the report (JSON-ready)."""
    cfg.validate()
    _client(cfg).close()  # a refused URL fails here, once, before any thread starts
    outs = [{} for _ in range(cfg.streams)]
    t0 = time.perf_counter()
    threads = [threading.Thread(target=_one, args=(cfg, t0, o), daemon=True) for o in outs]
    for th in threads:
        th.start()
    for th in threads:
        th.join(cfg.timeout + 5)
    wall = time.perf_counter() - t0
    done = [o for o in outs if "end" in o]
    ttfts = [o["first_token"] - o["start"] for o in done if "first_token" in o]
    per = [o["tokens"] / (o["end"] - o["first_token"]) for o in done
           if "first_token" in o and o["tokens"] > 1 and o["end"] > o["first_token"]]
    total = sum(o["tokens"] for o in done)
    public = {k: v for k, v in asdict(cfg).items() if k not in ("api_key", "prompt")}
    return {"config": public, "served": len(done), "refused": sum(1 for o in outs if o.get("refused")),
            "failed": sum(1 for o in outs if "error" in o),
            "errors": sorted({o["error"] for o in outs if "error" in o})[:3],
            "wall_s": round(wall, 3), "tokens": total, "aggregate_tok_s": round(total / wall, 2) if wall else 0.0,
            "ttft_p50_s": _pct(ttfts, 0.5), "ttft_p95_s": _pct(ttfts, 0.95),
            "stream_tok_s_p50": round(statistics.median(per), 2) if per else None,
            "streams": [{k: round(v, 4) if isinstance(v, float) else v for k, v in o.items()} for o in outs]}


def timeline_figure(report: dict, lang: str = "en"):
    """One horizontal bar per stream (rows sorted by start): grey while waiting for its first token,
    blue while tokens arrive, red when refused or failed. Queueing is the grey growing down the rows."""
    from apps.i18n import t
    from apps.plotting import caption_lang, plt, style

    lang = caption_lang(lang)
    streams = report["streams"]
    with style():
        fig, ax = plt.subplots(figsize=(7, 1.2 + 0.22 * len(streams)), dpi=100)
        for row, s in enumerate(streams):
            start = s.get("start", 0.0)
            if "first_token" in s:
                ax.barh(row, s["first_token"] - start, left=start, color="#bbbbbb")
                ax.barh(row, s.get("end", s["first_token"]) - s["first_token"], left=s["first_token"], color="#3b7dd8")
            else:
                ax.barh(row, max(0.05, s.get("answered", start) - start), left=start, color="#d84b3b")
        ax.set_xlabel(t("deploy.plot_time", lang))
        ax.set_ylabel(t("deploy.plot_stream", lang))
        ax.invert_yaxis()
        ax.set_title(t("deploy.plot_title", lang, n=len(streams), tps=report["aggregate_tok_s"],
                       ttft=report["ttft_p95_s"] if report["ttft_p95_s"] is not None else float("nan")))
        from matplotlib.patches import Patch

        ax.legend(handles=[Patch(color="#bbbbbb", label=t("deploy.plot_wait", lang)),
                           Patch(color="#3b7dd8", label=t("deploy.plot_gen", lang)),
                           Patch(color="#d84b3b", label=t("deploy.plot_refused", lang))],
                  loc="lower right", fontsize=8)
        fig.tight_layout()
    return fig
