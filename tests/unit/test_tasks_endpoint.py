"""The lab's own address from the request (any port, behind a proxy), its client snippets, where keys
come from, and cost figures a person can read."""
import pytest

from apps.errors import LabError
from apps.security import policy, urls
from apps.tasks import endpoint
from apps.tasks.providers import PRESETS, ProviderConfig


def test_own_address_comes_from_the_socket_on_any_port():
    assert endpoint.own_base(("127.0.0.1", 8123)) == "http://127.0.0.1:8123/v1"
    assert endpoint.own_base(("::1", 9000)) == "http://[::1]:9000/v1"
    assert endpoint.own_base(None) is None
    cfg = ProviderConfig("lab", lab_url="http://127.0.0.1:8123/v1")
    assert cfg.url == "http://127.0.0.1:8123/v1"  # not the 7860 guess


def test_public_address_follows_the_browser_and_proxies():
    own = "http://127.0.0.1:8123/v1"
    assert endpoint.public_base({"host": "127.0.0.1:8123"}, own) == own
    assert endpoint.public_base({"host": "10.0.0.5:8123", "x-forwarded-host": "lab.school.cn",
                                 "x-forwarded-proto": "https", "x-forwarded-prefix": "/llm/"},
                                own) == "https://lab.school.cn/llm/v1"
    assert endpoint.public_base({"host": "evil\"><script>"}, own) == own  # not a host name: not echoed


def test_snippets_call_the_real_url_and_never_hold_a_key():
    code = endpoint.snippets("http://127.0.0.1:8123/v1/", "smollm2-135m-instruct")
    assert code["curl"].startswith("curl http://127.0.0.1:8123/v1/chat/completions")
    assert "$LLMLAB_API_KEY" in code["curl"] and '"model": "smollm2-135m-instruct"' in code["curl"]
    assert 'OpenAI(base_url="http://127.0.0.1:8123/v1"' in code["python"]
    compile(code["python"], "snippet", "exec")  # a script that runs as pasted


def test_every_preset_says_where_its_key_comes_from():
    for preset in PRESETS.values():
        for lang in ("zh", "en"):
            line = endpoint.key_source(preset, lang)
            assert line and "tasks.keysrc" not in line
            if preset.needs_key:
                assert preset.key_site in line and preset.env_var in line


def test_costs_are_readable():
    assert endpoint.format_cost(0.0, "CNY", "lab", "en") == "free (local)"
    assert endpoint.format_cost(0.0, "CNY", "ollama", "zh") == "免费（本地运行）"
    assert endpoint.format_cost(0.0, "CNY", "zhipu", "en") == "free (list price 0)"
    assert endpoint.format_cost(0.000123456, "CNY", "deepseek", "en") == "≈ 0.00012 CNY"
    assert endpoint.format_cost(1.5e-5, "USD", "openai", "en") == "≈ 0.000015 USD"
    assert endpoint.format_cost(2.0, "USD", "openai", "en") == "≈ 2 USD"
    assert "0.000000" not in endpoint.format_cost(3e-7, "CNY", "deepseek", "en")


def test_a_restricted_server_may_call_itself_on_its_real_port_only():
    own = "http://127.0.0.1:8123/v1"
    fenced = policy.Policy(mode="classroom")
    urls.check_base_url(own, [], fenced, own=own)  # the lab itself, wherever it listens
    with pytest.raises(LabError):
        urls.check_base_url("http://127.0.0.1:8124/v1", [], fenced, own=own)
