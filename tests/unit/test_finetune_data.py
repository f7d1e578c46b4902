"""Dataset formats, line-by-line validation, and the assistant-only loss mask through real tokenizers."""
from __future__ import annotations

import json

import pytest
from transformers import AutoTokenizer

from apps.errors import LabError
from apps.finetune import data
from apps.models.loading import model_dir
from apps.models.registry import resolve


@pytest.fixture(scope="module")
def smol_tok():
    return AutoTokenizer.from_pretrained(model_dir(resolve("smollm2-135m-instruct")))


@pytest.fixture(scope="module")
def gemma_tok():
    return AutoTokenizer.from_pretrained(model_dir(resolve("gemma-3-270m")))


def test_every_shipped_sample_loads_and_covers_both_languages():
    names = data.samples()
    assert {"alpaca_en", "alpaca_zh", "messages_en", "sharegpt_zh", "completion_en", "preference_en",
            "preference_zh"} <= set(names)
    for name in names:
        ds = data.load(name)
        assert len(ds) >= 8 and all(m[-1]["role"] == "assistant" for m in ds.sft)
    assert len(data.load("preference_zh", "dpo").pairs) == 8


@pytest.mark.parametrize("line,fmt,n_turns", [
    ({"instruction": "Add", "input": "1+1", "output": "2"}, "alpaca", 2),
    ({"instruction": "Hi", "output": "Hello", "system": "Be brief"}, "alpaca", 3),
    ({"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}]}, "sharegpt", 2),
    ({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}, "messages", 2),
    ({"prompt": "a", "completion": "b"}, "completion", 2),
])
def test_formats_become_chats(line, fmt, n_turns):
    got_fmt, msgs = data.parse_example(line)
    assert got_fmt == fmt and len(msgs) == n_turns and msgs[-1]["role"] == "assistant"
    assert msgs[-1]["content"] in ("2", "Hello", "b")


def test_bad_lines_are_each_named_in_both_languages(tmp_path):
    bad = tmp_path / "bad.jsonl"
    lines = ['{"instruction": "x", "output": "ok"}', "{broken", '{"messages": [{"role": "user", "content": "q"}]}',
             '{"foo": 1}', '["not", "an", "object"]', '{"prompt": "p", "chosen": "c"}']
    bad.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(LabError) as err:
        data.load(str(bad))
    en, zh = err.value.message("en"), err.value.message("zh")
    assert "5 bad line" in en
    for n in (2, 3, 4, 5, 6):
        assert f"line {n}:" in en and f"第 {n} 行" in zh
    assert "line 1:" not in en
    assert "rejected" in en  # says which field is missing


def test_dpo_needs_pairs_and_unknown_data_lists_samples():
    with pytest.raises(LabError) as err:
        data.load("alpaca_en", "dpo")
    assert "preference pairs" in err.value.message("en")
    with pytest.raises(LabError) as err:
        data.load("no_such_dataset")
    assert "alpaca_en" in err.value.message("en")


def test_only_assistant_tokens_are_trained_in_a_multi_turn_chat(smol_tok):
    msgs = [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "Four."},
            {"role": "user", "content": "And 3+3?"}, {"role": "assistant", "content": "Six."}]
    enc = data.encode_chat(smol_tok, msgs, max_length=512, with_text=True)
    trained = "".join(p for p, lab in zip(enc["pieces"], enc["labels"]) if lab != data.IGNORE)
    context = "".join(p for p, lab in zip(enc["pieces"], enc["labels"]) if lab == data.IGNORE)
    assert trained == "Four.<|im_end|>Six.<|im_end|>"  # both answers and their end tokens, nothing else
    assert "What is 2+2?" in context and "And 3+3?" in context and "<|im_start|>assistant" in context
    assert "".join(enc["pieces"]) == enc["text"]
    assert data.encode_chat(smol_tok, msgs, max_length=10)["labels"] == enc["labels"][:10]


def test_base_model_gets_the_plain_template_and_learns_to_stop(gemma_tok):
    msgs = [{"role": "user", "content": "Say hi"}, {"role": "assistant", "content": "Hi!"}]
    enc = data.encode_chat(gemma_tok, msgs, max_length=64, with_text=True)
    assert enc["text"].startswith("<bos>### Question:\nSay hi")
    trained = [p for p, lab in zip(enc["pieces"], enc["labels"]) if lab != data.IGNORE]
    assert "".join(trained) == "Hi!<eos>"


def test_preview_shows_whole_chinese_characters(smol_tok):
    shown = data.preview(smol_tok, data.load("alpaca_zh"), n=2, max_length=256)
    text = "".join(p for p, _ in shown[1]["tokens"])
    assert "今天天气很好" in text and "\ufffd" not in text
    assert 0 < shown[1]["n_trained"] < shown[1]["n_tokens"]


def test_uploads_are_kept_next_to_the_runs(tmp_path):
    src = tmp_path / "up.jsonl"
    src.write_text(json.dumps({"prompt": "a", "completion": "b"}) + "\n", encoding="utf-8")
    kept = data.keep_upload(str(src), tmp_path / "runs")
    src.unlink()
    assert len(data.load(kept)) == 1
