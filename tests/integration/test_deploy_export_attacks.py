"""The Deploy tab's "export your app" against a hostile student, replayed through raw HTTP (Gradio's
queue protocol, test_classroom_attacks' helpers): Bob names Ann's fine-tuned run, her adapter folder
and her RAG index every way the endpoint accepts a value, and gets refusals and no zip; Ann gets a
zip of her own adapter and index, downloadable from its URL."""
from __future__ import annotations

import json
import secrets
import time
import zipfile
from pathlib import Path

import torch
from safetensors.torch import save_file
from tests.integration.test_classroom_attacks import as_, lab, said  # noqa: F401 (lab: the module fixture)

FACT = "The Zorblax Club meets every Tuesday in the old library."


def finished_run(root: Path, owner: str, label: str) -> str:
    """A finished LoRA run folder as the fine-tuning stage leaves it (config, status, adapter files)."""
    from apps.finetune.config import RunConfig, save_yaml
    from apps.finetune.runs import write_status

    run_id = f"20261203-120000-sft-lora-smollm2-135m-instruct-{secrets.token_hex(2)}"
    folder = root / run_id
    (folder / "adapter").mkdir(parents=True)
    save_yaml(RunConfig(model="smollm2-135m-instruct", label=label), folder / "run.yaml")
    (folder / "adapter" / "adapter_config.json").write_text(json.dumps(
        {"peft_type": "LORA", "base_model_name_or_path": "smollm2-135m-instruct", "r": 2, "lora_alpha": 4,
         "target_modules": ["q_proj"], "task_type": "CAUSAL_LM"}))
    save_file({"ann-secret": torch.arange(8, dtype=torch.float32)}, folder / "adapter" / "adapter_model.safetensors")
    write_status(folder, state="finished", owner=owner, created=time.time())
    return run_id


def form(model, index=False) -> list:
    """The export button's inputs: model, use my index, system, title, max tokens, temperature, lang."""
    return [model, index, "Answer in one short sentence.", "Ann's helper", 64, 0, "en"]


def test_a_student_exports_only_her_own_run_and_index(lab, minilm, tmp_path):  # noqa: F811
    from apps.auth import Auth
    from apps.retrieval.library import Library
    from rag.store import BuildConfig, RagIndex

    ann, bob = as_(lab, "ann"), as_(lab, "bob")
    auth = Auth("classroom", store=lab["store"], secret=b"x" * 32)
    ann_user = auth.user(ann.config()["username"])
    root = Path(lab["env"]["LLMLAB_RUNS"])
    run_id = finished_run(root, ann_user.id, "ann-poet")
    adapter = root / run_id / "adapter"
    (tmp_path / "club.txt").write_text(FACT, encoding="utf-8")
    index = Library(lab["env"]["LLMLAB_INDEXES"]).save(
        ann_user, RagIndex.build([str(tmp_path)], BuildConfig(chunk_size=200, overlap=20)))

    # what each one's page offers: Ann her run, Bob nothing of hers
    model_box = next(c["id"] for c in ann.config()["components"] if c.get("props", {}).get("elem_id") == "deploy-ex-model")
    load = next(d for d in ann.config()["dependencies"]
                if any(t[1] == "load" for t in d["targets"]) and model_box in d["outputs"])
    ok, out = ann.call(load, [])
    assert ok and f"tuned:{run_id}" in json.dumps(out) and "ann-poet" in json.dumps(out) and out[-1]["value"] is True
    ok, out = bob.call(load, [])
    assert ok and run_id not in json.dumps(out) and "ann-poet" not in json.dumps(out) and out[-1]["value"] is False

    # Bob names Ann's run, her adapter and her run folder: refused, as for a run that does not exist
    export = bob.dep("deploy-ex-run")
    ok, out = bob.call(export, form(f"tuned:{run_id}"))
    assert not ok and out == said("finetune.no_run", run_id=run_id)
    for model in (f"smollm2-135m-instruct+adapter:{adapter}", f"smollm2-135m-instruct+{adapter}", str(adapter),
                  str(root / run_id), str(index), "../../runs", "HuggingFaceTB/SmolLM2-135M-Instruct"):
        ok, out = bob.call(export, form(model))
        assert not ok and out == said("deploy.not_offered", name=model), (model, out)
    # ... and her index, by its path in the "use my index" box: his own (none) is all it can mean
    for value in (str(index), str(index.parent.parent), True):
        ok, out = bob.call(export, form("smollm2-135m-instruct@llama.cpp", value))
        assert not ok and out == said("deploy.no_index"), out
    # bad input: a clear message, nothing built
    ok, out = bob.call(export, [*form("smollm2-135m-instruct@llama.cpp")[:4], 99999, 0, "en"])
    assert not ok and "1024" in out  # the slider's own bound, checked by Gradio before the handler
    ok, out = bob.call(export, [form("smollm2-135m-instruct@llama.cpp")[0], False, "x" * 5000, *form("")[3:]])
    assert not ok and out == said("deploy.system_too_long", n=5000, max=4000)
    bob_user = auth.user(bob.config()["username"])
    from gradio.utils import get_upload_folder

    bob_dir = Path(get_upload_folder()) / "llmlab-deploy" / bob_user.folder
    assert not bob_dir.exists() or not any(bob_dir.iterdir())

    # Ann exports her own run with her own index, and downloads it
    ok, out = ann.call(ann.dep("deploy-ex-run"), form(f"tuned:{run_id}", True))
    assert ok, out
    text, file = out
    assert file["path"].endswith("ann-s-helper.zip") and "ann-s-helper.zip" in text
    with zipfile.ZipFile(file["path"]) as zf:
        names = set(zf.namelist())
        assert {"ann-s-helper/app.py", "ann-s-helper/model/config.json", "ann-s-helper/index/index.faiss",
                "ann-s-helper/embedder/modules.json", "ann-s-helper/adapter/adapter_config.json"} <= names
        assert zf.read("ann-s-helper/adapter/adapter_model.safetensors") == \
            (adapter / "adapter_model.safetensors").read_bytes()
        assert FACT in zf.read("ann-s-helper/index/chunks.jsonl").decode()
        config = json.loads(zf.read("ann-s-helper/app_config.json"))
        assert config["adapter"] == "adapter" and config["system"] == "Answer in one short sentence."
        assert config["max_tokens"] == 64 and config["source_model"].startswith("smollm2-135m-instruct+adapter:")
    head = ann.http.get(file["url"], headers={"Range": "bytes=0-3"})
    assert head.status_code in (200, 206) and head.content[:4] == b"PK\x03\x04"
