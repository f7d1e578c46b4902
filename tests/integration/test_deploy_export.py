"""`llmlab deploy export`: the folder runs on its own, in another virtual environment, offline, and
answers through gradio_client with the chosen model, system prompt and RAG index.

To stay inside the test-time budget the venv is made with the test interpreter's packages visible
(a .pth file: the equivalent of --system-site-packages for a venv made from a venv) instead of
installing ~2 GB of wheels; `pip install --no-deps --dry-run -r requirements.txt` checks that every
pin resolves by name and version, and apps.deploy.wheelhouse.closure that every dependency of every
pin is installed here in a version it accepts (what a wheelhouse of this venv would offer). The
real install into a brand-new venv, offline from that wheelhouse, is `make check-export`
(bench/export_install.py: minutes, so not here). The app runs without the lab on its path.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import site
import subprocess
import venv

import pytest

from apps.deploy.export import ExportConfig, export
from bench.export_trial import serve_app
from apps.errors import LabError

FACT = "The Zorblax Club meets every Tuesday in the old library."
WEATHER = "Rain is common in spring. Summers are warm and dry."
QUESTION = "When does the Zorblax Club meet?"
SYSTEM = "Answer in one short sentence."


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory, minilm):
    from rag.store import BuildConfig, RagIndex

    docs = tmp_path_factory.mktemp("docs")
    (docs / "club.txt").write_text(FACT, encoding="utf-8")
    (docs / "weather.txt").write_text(WEATHER, encoding="utf-8")
    folder = tmp_path_factory.mktemp("index") / "club"
    RagIndex.build([str(docs)], BuildConfig(chunk_size=200, overlap=20)).save(folder)
    return folder


def _venv(tmp_path):
    """(python, env) of a new venv that sees this interpreter's packages through a .pth file, not the lab."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    py = env_dir / "bin" / "python"
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    with open(os.path.join(purelib, "_parent_env.pth"), "w") as handle:
        handle.write("\n".join(site.getsitepackages()) + "\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    return py, env


def test_exported_app_answers_from_its_index(tmp_path, index_dir, smollm):
    out = tmp_path / "my-app"
    report = export(ExportConfig(model="smollm2-135m-instruct", index=str(index_dir), output=str(out),
                                 system=SYSTEM, max_tokens=32, title="Zorblax helper"))
    for name in ("app.py", "app_config.json", "requirements.txt", "README.md", "model/config.json",
                 "index/index.faiss", "index/chunks.jsonl", "embedder/modules.json"):
        assert (out / name).exists(), name
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("---\ntitle: Zorblax helper\n") and "sdk: gradio" in readme
    assert any(r.startswith("faiss-cpu==") for r in report["requirements"])
    with pytest.raises(LabError) as err:  # never written over
        export(ExportConfig(model="smollm2-135m-instruct", output=str(out)))
    assert err.value.key == "deploy.output_not_empty"

    py, env = _venv(tmp_path)
    check = subprocess.run([str(py), "-m", "pip", "install", "--no-deps", "--dry-run", "--no-index", "-r",
                            "requirements.txt"], cwd=out, env=env, capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout[-1500:] + check.stderr[-1500:]
    assert "Would install" not in check.stdout  # every pin is satisfied as written
    from apps.deploy.wheelhouse import closure

    needed = closure(report["requirements"])  # ValueError names a missing or mismatched dependency
    assert {"torch", "gradio", "faiss-cpu", "huggingface-hub"} <= set(needed) and "apps" not in needed

    with serve_app(py, out, env) as client:
        answer = client.predict(QUESTION, api_name="/chat")
        assert "tuesday" in answer.lower(), answer  # found in the index, not known to the model
        # The same model, greedy, on the same sources (best first) answers the same in the lab.
        from apps.models.generation import GenerationConfig, generate
        from rag.answer import INSTRUCTIONS

        user = f"Sources:\n\n[1] (club.txt)\n{FACT}\n\n[2] (weather.txt)\n{WEATHER}\n\nQuestion: {QUESTION}"
        lab = generate(smollm, [{"role": "system", "content": SYSTEM + "\n\n" + INSTRUCTIONS["en"]},
                                {"role": "user", "content": user}], GenerationConfig(max_new_tokens=32))
        assert answer.strip() == lab.text.strip()


def test_gguf_export_carries_the_file_and_its_engine(tmp_path):
    """A GGUF (a registry model's, or a .gguf file) ships as it is, quantised, for llama-cpp-python;
    corrupt or missing files are refused before anything is written. Needs no llama-cpp-python here."""
    from apps.models import llamacpp, registry

    out = tmp_path / "gguf-app"
    report = export(ExportConfig(model="smollm2-135m-instruct@llama.cpp", output=str(out), system=SYSTEM))
    source = llamacpp.file_of(registry.resolve("smollm2-135m-instruct@llama.cpp"))
    assert (out / "model.gguf").stat().st_size == source.stat().st_size
    assert report["config"]["engine"] == "llama.cpp" and report["config"]["model"] == "model.gguf"
    reqs = (out / "requirements.txt").read_text().split()
    assert [r.split("==")[0] for r in reqs] == ["gradio", "llama-cpp-python"]  # no torch: a small install
    assert all("==" in r and "+" not in r for r in reqs), reqs
    assert not (out / "model").exists()
    copy = tmp_path / "mine.gguf"  # a file the learner downloaded
    shutil.copyfile(source, copy)
    report = export(ExportConfig(model=str(copy), output=str(tmp_path / "file-app")))
    assert report["config"]["engine"] == "llama.cpp" and "model.gguf" in report["files"]
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\0" * 64)
    for model, key in ((str(bad), "llama.corrupt"), (str(tmp_path / "nowhere.gguf"), "llama.no_file")):
        with pytest.raises(LabError) as err:
            export(ExportConfig(model=model, output=str(tmp_path / "never")))
        assert err.value.key == key
        assert not (tmp_path / "never").exists()


@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                    reason="llama-cpp-python is not installed (optional: make llama)")
def test_gguf_app_answers_offline_like_the_labs_llamacpp_engine(tmp_path, cache):
    out = tmp_path / "gguf-app"
    export(ExportConfig(model="smollm2-135m-instruct@llama.cpp", output=str(out), system=SYSTEM, max_tokens=16))
    py, env = _venv(tmp_path)
    with serve_app(py, out, env) as client:
        answer = client.predict("What is the capital of France?", api_name="/chat")
    from apps.models.generation import GenerationConfig, generate

    lab = generate(cache.get("smollm2-135m-instruct@llama.cpp"),
                   [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "What is the capital of France?"}],
                   GenerationConfig(max_new_tokens=16))
    assert answer.strip() and answer.strip() == lab.text.strip()  # the same file, greedy, the same words
