"""The locked-down surface, attacked through raw HTTP against the served lab (issue 11).

Every attack is replayed as a hostile script would send it: POST /gradio_api/queue/join with a
chosen fn_index, session_hash and data (FileData paths, base URLs, model names), then the event's
messages from /gradio_api/queue/data. Each must be refused with a clear message and leave no trace.
Classroom mode is switched on for a test by the environment (apps.security.policy reads it on
every check), against the same served lab.
"""
from __future__ import annotations

import json
import os
import socket
import uuid
from pathlib import Path

import httpx
import pytest

from apps.i18n import t


def join(client: httpx.Client, fn_index: int, data: list, session_hash: str | None = None) -> httpx.Response:
    return client.post("/gradio_api/queue/join", json={
        "data": data, "fn_index": fn_index, "session_hash": session_hash or uuid.uuid4().hex,
        "event_data": None, "trigger_id": None})


def call(client: httpx.Client, fn_index: int, data: list, timeout: float = 120) -> tuple[dict, str]:
    """(the process_completed message, every SSE text received) for one event."""
    session = uuid.uuid4().hex
    joined = join(client, fn_index, data, session)
    joined.raise_for_status()
    event_id = joined.json()["event_id"]
    seen = []
    with client.stream("GET", "/gradio_api/queue/data", params={"session_hash": session}, timeout=timeout) as r:
        for line in r.iter_lines():
            seen.append(line)
            if not line.startswith("data:"):
                continue
            msg = json.loads(line[5:])
            if msg.get("event_id") == event_id and msg.get("msg") == "process_completed":
                return msg, "\n".join(seen)
    raise AssertionError("the event never completed:\n" + "\n".join(seen))


def error_of(msg: dict) -> str:
    return str((msg.get("output") or {}).get("error") or "")


def config(client: httpx.Client) -> dict:
    return client.get("/config").json()


def default_inputs(cfg: dict, dep: dict) -> list:
    """Each input's current value from /config (None for State), as the page would send it."""
    comps = {c["id"]: c for c in cfg["components"]}
    return [None if comps[i]["type"] == "state" else comps[i].get("props", {}).get("value") for i in dep["inputs"]]


def file_inputs(cfg: dict, dep: dict) -> list[int]:
    comps = {c["id"]: c for c in cfg["components"]}
    kinds = ("file", "uploadbutton", "image", "audio", "video", "gallery", "model3d", "multimodaltextbox")
    return [pos for pos, i in enumerate(dep["inputs"]) if comps[i]["type"] in kinds]


def fn_index(cfg: dict, api_name: str) -> int:
    return next(i for i, d in enumerate(cfg["dependencies"]) if d.get("api_name") == api_name)


def file_data(path: str, name: str | None = None) -> dict:
    return {"path": path, "orig_name": name, "meta": {"_type": "gradio.FileData"}}


REFUSED_FILE = t("security.file_refused", "en", name="").split("'")[0]  # "Refused the file "
REFUSED_FILE_ZH = t("security.file_refused", "zh", name="").split("“")[0]


@pytest.fixture
def lab(live_url):
    with httpx.Client(base_url=live_url, timeout=120) as client:
        yield client


@pytest.fixture
def canary(tmp_path):
    """A readable file outside Gradio's upload cache, whose content must never come back."""
    secret = f"CANARY-{uuid.uuid4().hex}"
    path = tmp_path / f"canary-{uuid.uuid4().hex[:8]}.jsonl"
    path.write_text(json.dumps({"instruction": secret, "output": secret, "text": secret}) + "\n")
    return path, secret


def _upload_dir() -> Path:
    from gradio.utils import get_upload_folder

    return Path(get_upload_folder())


def _refused(msg: dict) -> bool:
    err = error_of(msg)
    return msg.get("success") is False and (REFUSED_FILE in err or REFUSED_FILE_ZH in err)


def test_every_file_handler_refuses_a_path_outside_the_upload_cache(lab, canary):
    """Walk /config: every dependency with a file input, called with a FileData naming the canary."""
    path, secret = canary
    cfg = config(lab)
    deps = [(i, d) for i, d in enumerate(cfg["dependencies"]) if file_inputs(cfg, d)]
    assert len(deps) >= 5, "expected the RAG, tasks, fine-tuning and arena upload handlers"
    for index, dep in deps:
        data = default_inputs(cfg, dep)
        for pos in file_inputs(cfg, dep):
            data[pos] = file_data(str(path), path.name)
        msg, stream = call(lab, index, data)
        assert _refused(msg), (index, dep.get("api_name"), msg)
        assert secret not in stream
    # no trace: the canary was never copied into Gradio's cache
    assert not list(_upload_dir().rglob(path.name))


@pytest.mark.parametrize("variant", ["traversal", "no_meta", "url", "list"])
def test_path_tricks_are_refused(lab, canary, live_url, variant):
    path, secret = canary
    cfg = config(lab)
    index = fn_index(cfg, "do_import")  # the arena's vote import: one file input
    relative = os.path.relpath(path, _upload_dir())
    ref = {"traversal": file_data(str(_upload_dir() / relative)),
           "no_meta": {"path": str(path)},
           "url": file_data(f"{live_url}/v1/models"),
           "list": [file_data(str(path))]}[variant]
    msg, stream = call(lab, index, [ref, None])
    assert _refused(msg) and secret not in stream and "smollm2" not in stream


def test_own_upload_and_shipped_sample_are_accepted(lab):
    sample = Path(__file__).resolve().parents[2] / "curriculum" / "data" / "finetune" / "alpaca_en.jsonl"
    uploaded = lab.post("/gradio_api/upload", files={"files": ("mine.jsonl", sample.read_bytes())})
    assert uploaded.status_code == 200, uploaded.text
    cfg = config(lab)
    index = fn_index(cfg, "on_preview")
    dep = cfg["dependencies"][index]
    for path in (uploaded.json()[0], str(sample)):
        data = default_inputs(cfg, dep)
        data[file_inputs(cfg, dep)[0]] = file_data(path, "mine.jsonl")
        msg, _ = call(lab, index, data)
        assert msg.get("success") is True, msg


# ---------------------------------------------------------------- the API key on the Gradio API

KEY = "sk-lab-gate-0123456789"


def test_chat_endpoint_without_the_key_is_refused(lab, monkeypatch):
    monkeypatch.setenv("LLMLAB_API_KEY", KEY)
    index = fn_index(config_without_gate(lab), "chat")
    data = ["Hello", None, "smollm2-135m-instruct", "", 8, 0.0, 0, "en"]
    refused = join(lab, index, data)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_api_key"
    assert "Bearer" in refused.json()["error"]["message"]
    assert lab.get("/gradio_api/queue/data", params={"session_hash": "x"}).status_code == 401
    assert lab.post("/gradio_api/upload", files={"files": ("a.txt", b"x")}).status_code == 401
    # with the key as a bearer token the same API answers
    assert lab.get("/gradio_api/info", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200


def config_without_gate(lab):
    return lab.get("/config", headers={"Authorization": f"Bearer {KEY}"}).json()


def test_browser_gets_in_with_the_key_once(live_url, monkeypatch):
    monkeypatch.setenv("LLMLAB_API_KEY", KEY)
    with httpx.Client(base_url=live_url, timeout=30) as browser:
        page = browser.get("/", headers={"Accept": "text/html"})
        assert page.status_code == 401 and "LLMLAB_API_KEY" in page.text and "<form" in page.text
        assert browser.get("/?key=wrong").status_code == 401
        entered = browser.get(f"/?key={KEY}")
        assert entered.status_code == 303 and entered.headers["location"] == "/"
        assert "HttpOnly" in entered.headers["set-cookie"]
        assert browser.get("/gradio_api/info").status_code == 200  # the cookie now opens the API
        assert browser.get("/").status_code == 200
    forged = httpx.get(f"{live_url}/gradio_api/info", cookies={"llmlab_page": "abc.def"})
    assert forged.status_code == 401


# ---------------------------------------------------------------- SSRF and models, classroom mode

@pytest.fixture
def listener():
    """A loopback port that records whether anything connected to it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    sock.setblocking(False)
    yield sock
    sock.close()


def _connected(sock) -> bool:
    try:
        sock.accept()[0].close()
        return True
    except BlockingIOError:
        return False


def test_loopback_base_url_refused_in_classroom_mode(lab, listener, monkeypatch):
    monkeypatch.setenv("LLMLAB_MODE", "classroom")
    cfg = config(lab)
    index = fn_index(cfg, "run_summaries")
    data = default_inputs(cfg, cfg["dependencies"][index])
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    data[0], data[1], data[2], data[8] = "custom", url, "m", 1  # preset, base URL, model, limit
    msg, _ = call(lab, index, data)
    assert msg["success"] is False
    assert "private, loopback or link-local" in error_of(msg) or "内网" in error_of(msg), msg
    assert not _connected(listener)  # no trace: the server never opened a connection


def test_typed_hub_id_and_folder_refused_in_classroom_mode(lab, cache, monkeypatch):
    from apps.storage import lab_home

    monkeypatch.setenv("LLMLAB_MODE", "classroom")
    index = fn_index(config(lab), "chat")
    before = cache.loaded()
    folder = str(lab_home() / "models" / "smollm2-135m-instruct")  # a real, loadable model folder
    for typed in ("HuggingFaceTB/SmolLM2-360M-Instruct", folder, "../../etc"):
        msg, _ = call(lab, index, ["Hello", None, typed, "", 8, 0.0, 0, "en"])
        assert msg["success"] is False and "cannot be loaded in classroom/Spaces mode" in error_of(msg), msg
    assert cache.loaded() == before  # refused before any load or download


def test_a_crashing_handler_answers_with_a_clear_message(lab):
    """Hostile inputs of the wrong shape make handlers (or Gradio's preprocessing) raise; the
    caller gets a readable message, never Gradio's bare 'Error', and the lab keeps serving."""
    cfg = config(lab)
    prefixes = (t("security.handler_failed", "en", reason="").split(":")[0],
                t("security.handler_failed", "zh", reason="").split("：")[0])
    for name in ("add_user", "on_token"):
        index = fn_index(cfg, name)
        msg, _ = call(lab, index, [{"bogus": 1}] * len(cfg["dependencies"][index]["inputs"]))
        assert msg["success"] is False and error_of(msg).startswith(prefixes), msg
        assert "Traceback" not in error_of(msg)
    assert lab.get("/gradio_api/info").status_code == 200
