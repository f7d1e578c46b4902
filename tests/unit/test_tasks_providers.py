"""Provider configs: presets, the key never shown, clear errors before any request, cost estimates."""
import pytest

from apps.errors import LabError
from apps.tasks import providers
from apps.tasks.providers import PRESETS, ProviderConfig, Usage

SECRET = "sk-unit-SECRET-4242"


def test_every_requested_preset_exists():
    assert {"deepseek", "qwen", "moonshot", "zhipu", "spark", "qianfan", "openai", "ollama", "vllm", "lab",
            "local", "custom"} <= set(PRESETS)
    for p in PRESETS.values():
        assert p.label[0] and p.label[1]
        assert p.base_url is None or p.base_url.startswith("http")


def test_key_is_not_in_repr_or_public():
    cfg = ProviderConfig("deepseek", api_key=SECRET)
    assert SECRET not in repr(cfg) and SECRET not in str(cfg.public())
    assert cfg.public()["key_set"] is True and cfg.url == "https://api.deepseek.com/v1"


def test_missing_pieces_are_explained_before_any_request():
    with pytest.raises(LabError) as exc:
        providers.chat(ProviderConfig("deepseek"), [{"role": "user", "content": "hi"}])
    assert exc.value.key == "tasks.need_key" and "DEEPSEEK_API_KEY" in exc.value.message("en")
    with pytest.raises(LabError) as exc:
        ProviderConfig("custom", model="m").url
    assert exc.value.key == "tasks.need_base_url"
    with pytest.raises(LabError):
        ProviderConfig("nope")
    with pytest.raises(LabError) as exc:
        providers.chat(ProviderConfig("lab"), [], frequency_penalty=1)
    assert exc.value.key == "gen.bad_param"


def test_lab_base_url_and_env_keys(monkeypatch):
    monkeypatch.setenv("LLMLAB_API_BASE", "http://127.0.0.1:9/v1")
    assert ProviderConfig("lab").url == "http://127.0.0.1:9/v1"
    monkeypatch.setenv("MOONSHOT_API_KEY", SECRET)
    assert providers.key_from_env("moonshot") == SECRET


def test_cost_uses_the_price_table():
    usage = Usage(prompt_tokens=1_000_000, completion_tokens=500_000)
    amount, currency = providers.estimate_cost(ProviderConfig("openai", api_key="k"), usage)
    spec = PRESETS["openai"]
    assert amount == pytest.approx(spec.price_in + spec.price_out / 2) and currency == "USD"
    assert providers.estimate_cost(ProviderConfig("local"), usage)[0] == 0


def test_generation_config_maps_openai_params():
    greedy = providers.generation_config({"temperature": 0, "max_tokens": 9, "stop": "\n"})
    assert not greedy.do_sample and greedy.max_new_tokens == 9 and greedy.stop == ["\n"]
    sampled = providers.generation_config({"temperature": 0.7, "top_p": 0.9, "seed": 3})
    assert sampled.do_sample and sampled.temperature == 0.7 and sampled.top_p == 0.9 and sampled.seed == 3
