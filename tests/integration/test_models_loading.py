"""Loading the real offline models: GGUF conversion cache, device/dtype, the shared cache."""
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from apps.errors import LabError
from apps.models.loading import ModelCache, load_model
from apps.storage import lab_home


def test_gguf_models_are_cached_as_plain_safetensors(smollm, gemma):
    for lm in (smollm, gemma):
        folder = Path(lm.path)
        assert folder.is_relative_to(lab_home() / "models")
        assert (folder / "model.safetensors").exists() and (folder / "config.json").exists()
        assert "quantization_config" not in (folder / "config.json").read_text()
        assert lm.device == "cpu" and lm.dtype == torch.float32
        assert getattr(lm.model, "hf_quantizer", None) is None


def test_cached_folder_loads_with_plain_transformers_in_a_fresh_process(smollm):
    code = (
        "import sys, time; t=time.perf_counter()\n"
        "from transformers import AutoModelForCausalLM, AutoTokenizer\n"
        f"m = AutoModelForCausalLM.from_pretrained({smollm.path!r}); tok = AutoTokenizer.from_pretrained({smollm.path!r})\n"
        "print(type(m).__name__, tok.chat_template is not None, round(time.perf_counter()-t, 1))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    name, has_template, _seconds = out.stdout.split()
    assert name == "LlamaForCausalLM" and has_template == "True"


def test_minilm_embeds(minilm):
    vectors = minilm.model.encode(["a cat sat on the mat", "a kitten sat on a rug", "stock markets fell"])
    assert vectors.shape == (3, 384)
    sims = vectors @ vectors.T
    assert sims[0, 1] > sims[0, 2]


def test_cache_loads_once_under_concurrency(cache, smollm):
    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("smollm2-135m-instruct"))) for _ in range(4)]
    [th.start() for th in threads]
    [th.join() for th in threads]
    assert all(r is smollm for r in results)


def test_budget_evicts_least_recently_used(smollm):
    small = ModelCache(budget_bytes=2 * smollm.nbytes + (50 << 20))  # two smollm copies, not three models
    first = small.get("smollm2-135m-instruct")
    minilm = small.get("all-minilm-l6-v2")  # fits beside it
    assert len(small.loaded()) == 2 and first.nbytes + minilm.nbytes <= small.budget
    assert small.get("smollm2-135m-instruct") is first  # a hit makes smollm the most recently used
    small.get("smollm2-135m-instruct", attn="eager")  # a second copy does not fit: the LRU one (minilm) goes
    assert small.loaded() == ["smollm2-135m-instruct (cpu, sdpa)", "smollm2-135m-instruct (cpu, eager)"]


def test_too_big_for_budget_is_a_clear_error():
    with pytest.raises(LabError) as err:
        ModelCache(budget_bytes=1 << 20).get("all-minilm-l6-v2")
    assert err.value.key == "models.too_big"


def test_offline_hub_miss_is_fast_and_clear():
    # This machine reaches no hub: the lab must say so in seconds, not after the hub client's retries.
    from apps.models.loading import hub_reachable

    if hub_reachable():
        pytest.skip("this machine reaches the hub; the offline path is not exercised")
    started = time.perf_counter()
    with pytest.raises(LabError) as err:
        load_model("some-org/certainly-not-cached-model")
    assert err.value.key == "models.offline_miss"
    assert "离线" in err.value.message("zh")
    assert time.perf_counter() - started < 15
