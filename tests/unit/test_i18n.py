"""Every UI string exists in both languages, and every key a view uses is defined."""
import re
from pathlib import Path

from apps.i18n import lang_from_accept, norm_lang, t, table

ROOT = Path(__file__).resolve().parents[2]


def test_every_entry_has_zh_and_en():
    for key, pair in table().items():
        assert isinstance(pair, tuple) and len(pair) == 2, key
        zh, en = pair
        assert zh.strip() and en.strip(), f"{key} is missing a language"
        # Placeholders must match, or one language crashes on .format().
        assert set(re.findall(r"{(\w+)", zh)) == set(re.findall(r"{(\w+)", en)), key


def test_keys_used_in_code_exist():
    used = set()
    for path in (ROOT / "apps").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[\w.]+)["']""", text))
        used |= set(re.findall(r"""LabError\(\s*["']([a-z_]+\.[\w.]+)["']""", text))
    missing = sorted(k for k in used if k not in table())
    assert not missing, f"keys used but not defined: {missing}"


def test_language_choice():
    assert t("app.title", "zh") == "大模型 0→1 实验室"
    assert t("app.title", "en-US") == "LLM 0→1 Lab"
    assert t("models.unknown", "en", name="x", choices="a") .startswith("Unknown model 'x'")
    assert norm_lang("zh_TW") == "zh" and norm_lang("fr") == "en"
    assert lang_from_accept("en-GB,en;q=0.9,zh;q=0.8") == "en"
    assert lang_from_accept("zh-CN,zh;q=0.9") == "zh"
    assert t("no.such.key", "en") == "no.such.key"
