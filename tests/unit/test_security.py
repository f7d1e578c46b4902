"""apps.security's checks as plain functions: the policy, the upload ledger, base URLs, model names,
and the memory budget checked before loading."""
from __future__ import annotations

import json
import os
import socket
import struct

import pytest

from apps.errors import LabError
from apps.security import files, model_policy, policy, urls

PRESETS = ["https://api.deepseek.com/v1", "http://127.0.0.1:11434/v1"]


@pytest.fixture
def classroom(monkeypatch):
    monkeypatch.setenv("LLMLAB_MODE", "classroom")
    for var in ("LLMLAB_URL_ALLOWLIST", "LLMLAB_MODEL_ALLOWLIST"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def test_mode_and_limits_from_env(monkeypatch):
    for var in ("LLMLAB_MODE", "SPACE_ID", "LLMLAB_MAX_UPLOAD_MB"):
        monkeypatch.delenv(var, raising=False)
    assert policy.current().mode == "personal" and not policy.current().restricted
    monkeypatch.setenv("SPACE_ID", "me/lab")
    assert policy.current().mode == "spaces"
    monkeypatch.setenv("LLMLAB_MODE", "clasroom")  # a typo never opens a shared server
    assert policy.current().mode == "classroom"
    monkeypatch.setenv("LLMLAB_MAX_UPLOAD_MB", "2")
    assert policy.current().max_upload_bytes == 2 << 20
    policy.use(lambda: policy.Policy(mode="spaces", url_allowlist=("a.example",)))
    try:
        assert policy.current().url_allowlist == ("a.example",)
    finally:
        policy.use(None)


def test_ledger_accepts_only_the_owners_own_upload(tmp_path):
    ledger = files.UploadLedger()
    mine = tmp_path / "cache" / "abc" / "data.jsonl"
    mine.parent.mkdir(parents=True)
    mine.write_text("{}")
    ledger.add("ann", [str(mine)])
    assert files.allowed(str(mine), "ann", ledger)
    assert files.allowed(str(tmp_path / "cache" / "x" / ".." / "abc" / "data.jsonl"), "ann", ledger)
    assert not files.allowed(str(mine), "bob", ledger)  # another user's upload
    assert not files.allowed(str(tmp_path / "cache" / "abc"), "ann", ledger)  # its folder is not a file she sent
    assert not files.allowed("/etc/passwd", "ann", ledger)
    assert files.allowed(str(files.SAMPLE_ROOTS[0] / "finetune" / "alpaca_en.jsonl"), "bob", ledger)
    assert not files.allowed(str(files.SAMPLE_ROOTS[0] / ".." / ".." / "README.md"), "bob", ledger)
    with pytest.raises(LabError) as err:
        files.check_payload([None, {"value": [{"path": "/etc/shadow"}]}], "ann", ledger)
    assert err.value.key == "security.file_refused"


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/v1", "http://localhost:11434/v1", "http://10.0.0.7/v1", "http://192.168.1.1/v1",
    "http://169.254.169.254/latest", "http://[::1]:8000/v1", "http://[::ffff:127.0.0.1]/v1", "http://0.0.0.0/v1",
])
def test_internal_addresses_refused_in_classroom_mode(classroom, url):
    with pytest.raises(LabError) as err:
        urls.check_base_url(url, PRESETS)
    assert err.value.key == "security.url_private"
    assert "loopback" in err.value.message("en")


def test_url_rules(classroom, monkeypatch):
    for bad in ("file:///etc/passwd", "ftp://x/v1", "http:///v1", "http://host:notaport/v1"):
        with pytest.raises(LabError, match="http"):
            urls.check_base_url(bad, PRESETS)
    with pytest.raises(LabError) as err:
        urls.check_base_url("https://attacker.example/v1", PRESETS)
    assert err.value.key == "security.url_not_listed"
    with pytest.raises(LabError) as err:  # a preset on loopback (Ollama) needs the teacher's allowlist too
        urls.check_base_url("http://127.0.0.1:11434/v1", PRESETS)
    assert err.value.key == "security.url_private"
    monkeypatch.setenv("LLMLAB_URL_ALLOWLIST", "http://127.0.0.1:11434/v1, 10.0.0.7")
    urls.check_base_url("http://127.0.0.1:11434/v1", PRESETS)
    urls.check_base_url("http://10.0.0.7/v1", PRESETS)
    urls.check_base_url(os.environ.get("LLMLAB_API_BASE", "http://127.0.0.1:7860/v1"), PRESETS)  # the lab itself
    monkeypatch.setenv("LLMLAB_MODE", "personal")
    urls.check_base_url("http://127.0.0.1:9/v1", PRESETS)  # personal mode stays free


def test_guarded_client_checks_again_when_connecting(classroom):
    """A name that passed a check may resolve elsewhere later (DNS rebinding): the socket is
    refused when it would open to a loopback address, and nothing connects."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        sock.setblocking(False)
        with urls.guarded_http_client(5) as client, pytest.raises(LabError):
            client.get(f"http://localhost:{sock.getsockname()[1]}/")
        with pytest.raises(BlockingIOError):
            sock.accept()


def test_model_names_in_classroom_mode(classroom, tmp_path, monkeypatch):
    from apps.models import registry

    assert registry.resolve("smollm2-135m-instruct").source == "gguf"
    assert registry.resolve("HuggingFaceTB/SmolLM2-135M-Instruct").name == "smollm2-135m-instruct"
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    for typed in ("Qwen/Qwen2.5-7B-Instruct", str(folder), "/etc"):
        with pytest.raises(LabError) as err:
            registry.resolve(typed)
        assert err.value.key == "security.model_refused"
    monkeypatch.setenv("LLMLAB_MODEL_ALLOWLIST", f"Qwen/Qwen2.5-7B-Instruct,{folder}")
    assert registry.resolve("Qwen/Qwen2.5-7B-Instruct").source == "hub"
    assert registry.resolve(str(folder)).source == "local"
    runs = tmp_path / "runs"
    (runs / "r1" / "adapter").mkdir(parents=True)
    monkeypatch.setenv("LLMLAB_RUNS", str(runs))
    model_policy.check_adapter(str(runs / "r1" / "adapter"))  # made by the lab's fine-tuning
    with pytest.raises(LabError, match="adapter"):
        model_policy.check_adapter(str(tmp_path))


def test_budget_is_checked_before_loading(tmp_path):
    """A folder whose safetensors header declares 40 GB (and holds no data): refused as too big,
    which is only possible before loading (a load would fail on the missing data instead)."""
    from apps.models.loading import ModelCache

    folder = tmp_path / "huge"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "llama"}))
    header = json.dumps({"w": {"dtype": "F32", "shape": [100_000, 100_000], "data_offsets": [0, 0]}}).encode()
    (folder / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header)
    with pytest.raises(LabError) as err:
        ModelCache(budget_bytes=1 << 30).get(str(folder))
    assert err.value.key == "models.too_big" and err.value.params["need_mb"] == 40_000_000_000 >> 20


def test_poisoned_arena_contestant_never_receives_the_key(classroom):
    """A pool entry pointing the battle (and the student's key) at a chosen URL is refused before
    any connection is made."""
    from apps.arena.contestants import parse

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        sock.setblocking(False)
        for url in (f"http://127.0.0.1:{sock.getsockname()[1]}/v1", "http://attacker.example/v1"):
            contestant = parse(f"api:openai/gpt-4o-mini@{url}")
            with pytest.raises(LabError) as err:
                next(contestant.stream("hi", api_key="sk-student-secret"))
            assert err.value.key in ("security.url_private", "security.url_not_listed")
        with pytest.raises(BlockingIOError):
            sock.accept()
