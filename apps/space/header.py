"""The YAML header that configures a Space. Spaces read it only from the repository's root README.md,
between a first line `---` and the next `---`; elsewhere (GitHub, PyPI) it shows as a small table.

    from apps.space.header import render, parse, problems
    render()                         # the header text for this checkout (sdk_version = the Gradio in use)
    problems(parse(Path("README.md").read_text()), root=Path("."))   # [] when Spaces would accept it
"""
from __future__ import annotations

import re
from pathlib import Path

APP_FILE = "spaces/app.py"
CHAT_HUB = "HuggingFaceTB/SmolLM2-360M-Instruct"   # Space mode's chat model (the 135M one is the offline fallback)
EMBED_HUB = "intfloat/multilingual-e5-small"       # Space mode's embedder: Chinese and English alike
HARDWARE = ("cpu-basic", "cpu-upgrade", "zero-a10g", "t4-small", "t4-medium", "l4x1", "a10g-small",
            "a10g-large", "a100-large", "h100")
SDKS = ("gradio", "docker", "static")
REQUIRED = ("title", "sdk", "sdk_version", "app_file")


def fields() -> dict:
    """The header's fields, in the order written. sdk_version is the Gradio this checkout runs."""
    from importlib.metadata import version  # the installed Gradio, without importing it (no UI here)

    return {
        "title": "LLM 0→1 Lab",
        "emoji": "⚗",
        "colorFrom": "indigo",
        "colorTo": "green",
        "sdk": "gradio",
        "sdk_version": version("gradio"),
        "python_version": "3.11",
        "app_file": APP_FILE,
        "suggested_hardware": "zero-a10g",  # free accounts get Gradio Spaces on ZeroGPU only
        "hf_oauth": True,                    # sign in with Hugging Face: who owns which votes and runs
        "hf_oauth_expiration_minutes": 480,
        "models": [CHAT_HUB, EMBED_HUB],
        "preload_from_hub": [CHAT_HUB, EMBED_HUB],  # downloaded at build time, not by the first visitor
        "pinned": False,
        "license": "apache-2.0",
        "short_description": "Learn LLMs hands-on, one roadmap stage per tab (zh/en)",
    }


def render(values: dict | None = None) -> str:
    import yaml

    body = yaml.safe_dump(values or fields(), allow_unicode=True, sort_keys=False, default_flow_style=False)
    return f"---\n{body}---\n"


def split(text: str) -> tuple[str | None, str]:
    """(header YAML or None, the rest) of a README, as Spaces cut it."""
    match = re.match(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*\r?\n?", text, flags=re.S | re.M)
    return (match.group(1), text[match.end():]) if match else (None, text)


def parse(text: str) -> dict:
    """The header of README text as a dict ({} when there is none or it is not a YAML mapping)."""
    import yaml

    raw, _ = split(text)
    if raw is None:
        return {}
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def problems(meta: dict, root: Path) -> list[str]:
    """What Spaces would reject or mis-read in `meta` (empty: fine)."""
    out = [f"missing field: {k}" for k in REQUIRED if k not in meta]
    if meta.get("sdk") not in SDKS:
        out.append(f"sdk must be one of {', '.join(SDKS)}")
    if "sdk_version" in meta and not re.fullmatch(r"\d+\.\d+\.\d+", str(meta["sdk_version"])):
        out.append("sdk_version must be x.y.z")
    if "python_version" in meta and not re.fullmatch(r"3\.\d+(\.\d+)?", str(meta["python_version"])):
        out.append("python_version must look like 3.11")
    if "app_file" in meta and not (root / str(meta["app_file"])).is_file():
        out.append(f"app_file {meta['app_file']} does not exist")
    if meta.get("suggested_hardware") not in (None, *HARDWARE):
        out.append(f"suggested_hardware must be one of {', '.join(HARDWARE)}")
    for entry in meta.get("preload_from_hub") or []:
        if not re.fullmatch(r"[\w.-]+/[\w.-]+( [^ ]+)*", str(entry)):
            out.append(f"preload_from_hub entry '{entry}' is not 'owner/repo [files] [revision]'")
    if "short_description" in meta and len(str(meta["short_description"])) > 60:
        out.append("short_description is longer than 60 characters")
    return out


def update_readme(path: Path) -> bool:
    """Put the current header at the top of README `path`, keeping the rest as it is. True if changed."""
    text = path.read_text(encoding="utf-8")
    _, rest = split(text)
    new = render() + rest
    if new == text:
        return False
    path.write_text(new, encoding="utf-8")
    return True
