"""The lab as a Hugging Face Space: the header Spaces read, Space mode's choices, ZeroGPU wrappers,
and the Space folder `llmlab space build` makes."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from apps.cli import main
from apps.errors import LabError
from apps.space import build, gpu, header, mode

ROOT = Path(__file__).resolve().parents[2]


def test_root_readme_starts_with_a_header_spaces_accept():
    import gradio

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")  # Spaces read the header only from the first line of the root README
    meta = header.parse(text)
    assert header.problems(meta, ROOT) == []
    assert meta["sdk"] == "gradio" and meta["sdk_version"] == gradio.__version__  # pinned to the Gradio in use
    assert (ROOT / meta["app_file"]).is_file() and meta["hf_oauth"] is True
    assert set(meta["preload_from_hub"]) == {header.CHAT_HUB, header.EMBED_HUB}
    assert "# LLM 0→1 Lab" in header.split(text)[1]  # the rest of the README is still there


def test_header_checks_catch_what_spaces_reject(tmp_path):
    bad = {"title": "x", "sdk": "gradio", "sdk_version": "6.1", "app_file": "nope.py",
           "suggested_hardware": "tpu", "preload_from_hub": ["not a repo id"]}
    found = " | ".join(header.problems(bad, tmp_path))
    for word in ("sdk_version", "app_file", "suggested_hardware", "preload_from_hub"):
        assert word in found
    assert header.parse("# no header\n") == {} and header.parse("---\n[1, 2]\n---\n") == {}


def test_space_mode_picks_hub_models_and_falls_back_offline(monkeypatch):
    assert mode.default_model("chat", env={}) == ("smollm2-135m-instruct", None)  # not a Space
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # as here: the hub cannot be reached
    monkeypatch.setattr(mode, "_available", lambda hub_id: False)
    assert mode.default_model("chat", env={"SPACE_ID": "me/lab"}) == ("smollm2-135m-instruct", "space.offline_fallback")
    assert mode.default_model("embedding", env={"SPACE_ID": "me/lab"})[0] == "all-minilm-l6-v2"
    monkeypatch.setattr(mode, "_available", lambda hub_id: hub_id == header.CHAT_HUB)
    assert mode.default_model("chat", env={"SPACE_ID": "me/lab"}) == ("smollm2-360m-instruct", None)
    from apps.models import registry

    assert registry.resolve("smollm2-360m-instruct").hub_id == header.CHAT_HUB


def test_storage_is_durable_only_where_it_survives_a_restart(tmp_path):
    assert mode.storage({})["durable"]  # a laptop's disk
    space = {"SPACE_ID": "me/lab", "LLMLAB_HOME": str(tmp_path)}
    assert mode.storage(space)["how"] == "ephemeral" and not mode.storage(space)["durable"]
    assert mode.storage({**space, "LLMLAB_DURABLE": "1"})["durable"]
    assert not mode.api_open({"SPACE_ID": "me/lab"}) and mode.api_open({"SPACE_ID": "me/lab", "LLMLAB_API_KEY": "k"})


def test_a_space_visitor_is_told_what_does_not_last(tmp_path, monkeypatch):
    monkeypatch.setattr(mode, "_available", lambda hub_id: False)
    assert mode.notices({}) == []
    keys = mode.notices({"SPACE_ID": "me/lab", "LLMLAB_HOME": str(tmp_path)})
    assert keys == ["space.not_durable", "space.offline_fallback", "space.cpu_only"]


def test_gpu_wrapper_runs_the_function_on_cpu_when_spaces_reports_no_gpu():
    import spaces  # noqa: F401 - the real package, as on a Space
    import torch

    assert not gpu.zero_gpu()

    @gpu.gpu(duration=30)
    def matmul(n):
        return (torch.ones(n, n) @ torch.ones(n, n)).sum().item()

    assert matmul(4) == 64.0
    assert LabError("space.gpu_quota").message("zh") != LabError("space.gpu_quota").message("en")


def test_space_requirements_drop_test_tools_and_the_cpu_torch_pin():
    text = build.space_requirements("torch==2.13.0\npytest>=8\nplaywright>=1.5\ngradio>=6,<7\n# note\n")
    assert text.splitlines() == ["torch", "gradio>=6,<7", "spaces>=0.43"]


def test_build_and_dry_run_push(tmp_path, capsys):
    out = tmp_path / "space"
    assert main(["space", "build", str(out), "--json"]) == 0
    built = json.loads(capsys.readouterr().out)
    assert built["files"] > 50
    meta = header.parse((out / "README.md").read_text(encoding="utf-8"))
    assert header.problems(meta, out) == []
    reqs = (out / "requirements.txt").read_text()
    assert "pytest" not in reqs and "playwright" not in reqs and "torch==" not in reqs
    assert not list(out.rglob("tests")) and (out / "apps" / "space" / "gpu.py").is_file()
    assert main(["space", "push", "--dir", str(out), "--repo", "me/llm-lab", "--dry-run", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["dry_run"] and {"README.md", "spaces/app.py", "requirements.txt"} <= {f["path"] for f in plan["files"]}
    # the requirements resolve by name in a fresh environment (pip's resolver, nothing installed)
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--quiet",
                          "--ignore-installed", "-r", str(out / "requirements.txt")], capture_output=True, text=True)
    assert pip.returncode == 0, pip.stderr[-1500:]
    assert main(["space", "build", str(out)]) == 2  # never over what exists
    assert main(["space", "push", "--dir", str(tmp_path), "--repo", "me/x", "--dry-run"]) == 2
    assert main(["space", "push", "--dir", str(out), "--repo", "no-slash", "--dry-run"]) == 2
    capsys.readouterr()
