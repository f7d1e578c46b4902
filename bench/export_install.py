"""An exported app installed for real: a brand-new venv (`python -m venv`, its own pip), then
`pip install --no-index --find-links WHEELHOUSE -r requirements.txt` with no network, where the
wheelhouse is repacked from the lab's own venv (apps.deploy.wheelhouse; built once, then reused),
then `python app.py` answers a question from its RAG index through gradio_client.

    .venv/bin/python bench/export_install.py [--gguf] [--wheelhouse DIR]     # or: make check-export

--gguf: the smollm2 GGUF app (gradio + llama-cpp-python; needs llama-cpp-python installed here).
Prints one JSON object: seconds per step, wheels built/reused, the venv's size, the answer. Exit 1
if the app does not answer from its index (or, with --gguf, says nothing).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Run as `python bench/export_install.py`, bench/ comes first on sys.path and bench/rag.py would
# shadow the `rag` package: drop bench/, put the project root first.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

from apps.deploy.export import ExportConfig, export  # noqa: E402
from bench.export_trial import serve_app  # noqa: E402
from apps.deploy.wheelhouse import build  # noqa: E402
from apps.storage import lab_home  # noqa: E402

FACT = "The Zorblax Club meets every Tuesday in the old library."
QUESTION = "When does the Zorblax Club meet?"


def _du_mb(folder: Path) -> float:
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / (1 << 20))


def main(args) -> int:
    times: dict[str, float] = {}
    work = Path(tempfile.mkdtemp(prefix="llmlab-export-install-"))
    try:
        t = time.perf_counter()
        if args.gguf:
            cfg = ExportConfig(model="smollm2-135m-instruct@llama.cpp", output=str(work / "app"), max_tokens=16)
        else:
            from rag.store import BuildConfig, RagIndex

            (work / "docs").mkdir()
            (work / "docs" / "club.txt").write_text(FACT, encoding="utf-8")
            RagIndex.build([str(work / "docs")], BuildConfig(chunk_size=200, overlap=20)).save(work / "index")
            cfg = ExportConfig(model="smollm2-135m-instruct", index=str(work / "index"), output=str(work / "app"),
                               system="Answer in one short sentence.", max_tokens=32)
        report = export(cfg)
        times["export_s"] = time.perf_counter() - t

        t = time.perf_counter()
        house = build(report["requirements"], args.wheelhouse)
        times["wheelhouse_s"] = time.perf_counter() - t

        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "venv", str(work / "venv")], check=True)
        times["venv_s"] = time.perf_counter() - t
        py = work / "venv" / "bin" / "python"
        # nothing of this machine's pip settings (find-links, index URLs) and no lab on the path
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") and k != "PYTHONPATH"}
        env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", HF_HUB_OFFLINE="1",
                   TRANSFORMERS_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
        t = time.perf_counter()
        subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-index", "--find-links", house["output"], "-r",
                        str(work / "app" / "requirements.txt")], check=True, env=env)
        times["pip_install_s"] = time.perf_counter() - t
        check = subprocess.run([str(py), "-m", "pip", "check"], capture_output=True, text=True, env=env)

        t = time.perf_counter()
        with serve_app(py, work / "app", env, timeout_s=600) as client:
            times["app_start_s"] = time.perf_counter() - t
            t = time.perf_counter()
            answer = client.predict("What is the capital of France?" if args.gguf else QUESTION, api_name="/chat")
            times["first_answer_s"] = time.perf_counter() - t
        ok = bool(answer.strip()) if args.gguf else "tuesday" in answer.lower()
        print(json.dumps({"app": cfg.model, "requirements": report["requirements"], "packages": house["packages"],
                          "wheels_built": len(house["built"]), "wheels_reused": house["kept"],
                          "wheelhouse_mb": house["size_mb"], "venv_mb": _du_mb(work / "venv"),
                          "pip_check": check.stdout.strip() or check.stderr.strip(), "answer": answer, "ok": ok,
                          **{k: round(v, 1) for k, v in times.items()}, "cpus": os.cpu_count(),
                          "python": platform.python_version()}, indent=2, ensure_ascii=False))
        return 0 if ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gguf", action="store_true", help="the GGUF app (llama-cpp-python) instead of PyTorch + RAG")
    parser.add_argument("--wheelhouse", default=str(lab_home() / "wheelhouse"),
                        help="where the repacked wheels are kept (reused by the next run)")
    sys.exit(main(parser.parse_args()))
