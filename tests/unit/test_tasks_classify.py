"""Tolerant label parsing, train/test splits, label sets and prompt filling."""
import pytest

from apps.errors import LabError
from apps.tasks import classify

EN = ["sports", "military", "tech", "business"]
ZH = ["体育", "军事", "科技", "财经"]


@pytest.mark.parametrize("raw,expected", [
    ("sports", "sports"), ("Sports.", "sports"), ('"Tech"', "tech"), ("Category: business", "business"),
    ("I think this is about military matters.", "military"), ("**TECH**", "tech"),
    ("The answer is sports, not business", "sports"), ("startup news", None), ("", None), ("weather", None),
])
def test_parse_label_en(raw, expected):
    assert classify.parse_label(raw, EN) == expected


@pytest.mark.parametrize("raw,expected", [
    ("体育", "体育"), ("类别：科技", "科技"), ("这条属于财经类。", "财经"), ("「军事」", "军事"), ("天气", None),
])
def test_parse_label_zh(raw, expected):
    assert classify.parse_label(raw, ZH) == expected


def test_split_uses_marks_or_a_third_per_label():
    marked = [{"text": "a", "label": "x", "split": "train"}, {"text": "b", "label": "x"}]
    train, test = classify.split_items(marked)
    assert [i["text"] for i in train] == ["a"] and [i["text"] for i in test] == ["b"]
    plain = [{"text": str(k), "label": "xy"[k % 2]} for k in range(12)]
    train, test = classify.split_items(plain)
    assert len(train) == 4 and len(test) == 8
    assert {i["label"] for i in train} == {"x", "y"}


def test_labels_and_templates():
    assert classify.labels_of([], ["a, b", "c"]) == ["a", "b", "c"]
    assert classify.labels_of([{"label": "y"}, {"label": "x"}, {"label": "y"}]) == ["y", "x"]
    with pytest.raises(LabError):
        classify.labels_of([{"label": "only"}])
    examples = classify.pick_examples([{"text": "t1", "label": "a"}, {"text": "t2", "label": "b"}], ["a", "b"], 2)
    prompt = classify.fill(classify.TEMPLATES["en"], "New phone", ["a", "b"], examples, "en")
    assert "a, b" in prompt and "Headline: t1\nCategory: a" in prompt and prompt.endswith("Headline: New phone\nCategory:")
    with pytest.raises(LabError) as exc:
        classify.fill("no placeholder", "x", ["a", "b"], [], "en")
    assert exc.value.key == "tasks.template_needs"
