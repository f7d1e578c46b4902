"""Batch plumbing for the task lab: read JSONL/CSV items, run a task over them, write the results.

An item is a dict with at least a `text` field (an `article`/`content`/`headline`/`title` column is
accepted as the text too); summarisation items may carry `reference` (or `summary`), classification
items `label`, and either may have `id` and `split` (train | test). Per-item failures that concern
only that item (a timeout, a malformed reply, a too-long text) are recorded in its row and the run
goes on; failures that would hit every item (wrong key, unreachable server, unknown model) stop it.
"""
from __future__ import annotations

import csv
import io
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Callable

from apps.errors import LabError

TEXT_FIELDS = ("text", "article", "content", "headline", "title")
FATAL = {"tasks.err_auth", "tasks.need_key", "tasks.err_connect", "tasks.err_not_found", "tasks.need_base_url",
         "tasks.need_model", "models.unknown", "models.offline_miss", "models.not_generative", "tasks.err_rate"}

Progress = Callable[[int, int], None]  # (done, total)


def _normalise(rows: list[dict], source: str) -> list[dict]:
    items = []
    for n, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            raise LabError("tasks.bad_row", file=source, line=n)
        row = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
        text = next((row[f] for f in TEXT_FIELDS if str(row.get(f) or "").strip()), None)
        if text is None:
            raise LabError("tasks.missing_text", file=source, line=n, fields=", ".join(TEXT_FIELDS))
        item = {"id": str(row.get("id") or n), "text": str(text).strip()}
        ref = row.get("reference") or row.get("summary")
        if ref:
            item["reference"] = str(ref).strip()
        if str(row.get("label") or "").strip():
            item["label"] = str(row["label"]).strip()
        if str(row.get("split") or "").strip():
            item["split"] = str(row["split"]).strip().lower()
        items.append(item)
    if not items:
        raise LabError("tasks.empty_file", file=source)
    return items


def parse_items(content: str, name: str = "data.jsonl") -> list[dict]:
    """Items from the text of a .jsonl, .json (a list) or .csv file; the format follows the name."""
    suffix = Path(name).suffix.lower()
    rows: list = []
    if suffix == ".csv":
        rows = list(csv.DictReader(io.StringIO(content)))
    elif suffix == ".json":
        try:
            rows = json.loads(content)
        except json.JSONDecodeError as exc:
            raise LabError("tasks.bad_json", file=name, line=exc.lineno, reason=exc.msg) from exc
        if not isinstance(rows, list):
            raise LabError("tasks.bad_row", file=name, line=1)
    else:
        for n, line in enumerate(content.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise LabError("tasks.bad_json", file=name, line=n, reason=exc.msg) from exc
    return _normalise(rows, Path(name).name)


def load_items(path: str | os.PathLike) -> list[dict]:
    path = Path(path)
    if not path.is_file():
        raise LabError("tasks.no_file", file=str(path))
    raw = path.read_bytes()
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes  # GBK-encoded CSVs from Excel are common

        best = from_bytes(raw).best()
        if best is None:
            raise LabError("tasks.bad_encoding", file=path.name) from None
        content = str(best)
    return parse_items(content, path.name)


def sample_path(name: str) -> Path:
    """A file of the team-written sample data (curriculum/data/tasks/)."""
    return Path(__file__).resolve().parents[2] / "curriculum" / "data" / "tasks" / name


SAMPLES = {"news_zh": "news_zh.jsonl", "headlines_zh": "headlines_zh.jsonl", "headlines_en": "headlines_en.jsonl"}


def run_items(items: list[dict], fn: Callable[[dict], dict], progress: Progress | None = None) -> list[dict]:
    """rows[i] = {id, **fn(items[i]), latency_s, error}. fn returns the task's columns for one item."""
    rows = []
    for i, item in enumerate(items):
        started = time.perf_counter()
        row = {"id": item.get("id", str(i + 1))}
        try:
            row.update(fn(item))
            row["error"] = ""
        except LabError as exc:
            if exc.key in FATAL or exc.key.startswith("security."):  # a refusal applies to every item
                raise
            row["error"] = exc.message("en")
        row["latency_s"] = round(time.perf_counter() - started, 3)
        rows.append(row)
        if progress is not None:
            progress(i + 1, len(items))
    return rows


def totals(rows: list[dict]) -> dict:
    """Sums over rows that carry usage columns: tokens, cost, mean latency, failures."""
    n = len(rows) or 1
    return {
        "items": len(rows),
        "errors": sum(bool(r.get("error")) for r in rows),
        "prompt_tokens": sum(r.get("prompt_tokens", 0) for r in rows),
        "completion_tokens": sum(r.get("completion_tokens", 0) for r in rows),
        "cost": round(sum(r.get("cost", 0.0) for r in rows), 6),
        "mean_latency_s": round(sum(r.get("latency_s", 0.0) for r in rows) / n, 3),
    }


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


OUT_FORMATS = (".csv", ".jsonl")


def check_out_path(path: str | os.PathLike) -> Path:
    """A results path we can write: a known format, and a folder that exists (or can be made) and is
    writable. Checked before any work, so a long run never ends unable to save."""
    path = Path(path)
    if path.suffix.lower() not in OUT_FORMATS:
        raise LabError("tasks.bad_out", file=str(path), formats=", ".join(OUT_FORMATS))
    if path.is_dir():
        raise LabError("tasks.out_unwritable", file=str(path))
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise LabError("tasks.out_unwritable", file=str(path))
    return path


def write_results(rows: list[dict], path: str | os.PathLike) -> Path:
    """Rows → .csv (UTF-8 with BOM so Excel reads Chinese) or .jsonl, written atomically."""
    path = check_out_path(path)
    if path.suffix.lower() == ".csv":
        columns = list(dict.fromkeys(k for r in rows for k in r))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v
                             for k, v in r.items()})
        _atomic_write(path, "\ufeff" + buffer.getvalue())
    else:
        _atomic_write(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return path
