"""Pretraining data and tokenizer: cleaning, planted duplicates, bad files, BPE round trips, shapes."""
from __future__ import annotations

import pytest

from apps.errors import LabError
from apps.pretrain import architecture, corpus, tokenizer

ZH = "大语言模型做的事情说穿了只有一件：给定前面的文本，估计下一个词元出现的概率，然后从中挑出一个接到末尾。"
EN = "A language model predicts the next token from the ones before it, then appends it and repeats."


def _paragraphs(n: int) -> list[str]:
    """n distinct paragraphs: the same characters and words, each shuffled with its own seed."""
    import random

    pieces = list(ZH) + EN.split()
    return ["".join(random.Random(i).sample(pieces, len(pieces))) for i in range(n)]


def test_clean_strips_markup_and_normalises():
    text = "# 标题\n\n**粗体** 和 [链接](https://x.org/a) <b>tag</b>\n\n```python\nprint(1)\n```\n\nＡＢＣ１２３ &nbsp; end 好&#xff0c;的"
    out = corpus.clean(text)
    for gone in ("#", "**", "https://", "<b>", "```", "&nbsp;"):
        assert gone not in out, gone
    assert "粗体 和 链接" in out and "print(1)" in out and "ABC123" in out and "好,的" in out  # entities decoded; NFKC: full-width → ASCII


def test_dedup_removes_planted_exact_and_near_duplicates(tmp_path):
    paras = _paragraphs(30)
    near = paras[5][:30] + "又" + paras[5][30:60] + paras[5][61:]  # one character in, one out
    planted = paras + [paras[3], paras[17], near]
    path = tmp_path / "c.txt"
    path.write_text("\n\n".join(planted), encoding="utf-8")
    built = corpus.build([str(path)], val_fraction=0.1, seed=0)
    r = built.report
    assert (r["paragraphs"], r["exact_dups"], r["near_dups"], r["kept"]) == (33, 2, 1, 30)
    assert ("near", corpus.clean(near)) in built.removed
    assert not set(built.train) & set(built.val) and len(built.train) + len(built.val) == 30
    assert corpus.near_duplicates(paras) == set()  # distinct paragraphs stay


def test_bad_files_are_refused_with_a_message(tmp_path):
    binary = tmp_path / "x.bin"
    binary.write_bytes(bytes(range(256)) * 40)
    empty = tmp_path / "e.txt"
    empty.write_text("  \n# \n\n", encoding="utf-8")
    for path, key in ((binary, "pretrain.binary"), (empty, "pretrain.empty"), (tmp_path / "no.txt", "pretrain.no_file")):
        with pytest.raises(LabError) as err:
            corpus.build([str(path)])
        assert err.value.key == key
        assert err.value.message("zh") != err.value.message("en")
    assert set(corpus.shipped()) >= {"lessons-zh", "lessons-en"}  # seeds-zh only where shared/ exists


@pytest.fixture(scope="module")
def tok():
    built = corpus.build(["lessons-zh", "lessons-en"])
    return tokenizer.train(built.train, 800)


def test_tokenizer_round_trips_zh_and_en(tok):
    for text in (ZH, EN, "混合 mixed 文本 with emoji 🙂 and\nnew lines", "生僻字：龘靐齉"):
        ids = tok(text, add_special_tokens=False)["input_ids"]
        assert tok.decode(ids) == text
    assert len(tok) == 800
    assert tokenizer.chars_per_token(tok, ZH) > 0.5  # bytes alone would give 1/3: characters got merged
    merges = tokenizer.learned_merges(tok)
    assert len(merges) == 800 - 256 - 1 and all(a and b for a, b in merges)


def test_vocab_the_corpus_cannot_fill_is_refused(tmp_path):
    path = tmp_path / "small.txt"
    path.write_text("\n\n".join(_paragraphs(5)), encoding="utf-8")
    with pytest.raises(LabError) as err:
        tokenizer.train(corpus.build([str(path)]).train, 20_000)
    assert err.value.key == "pretrain.vocab_too_large" and err.value.params["most"] < 20_000
    with pytest.raises(LabError):
        tokenizer.train(["abc"], 100)  # below the byte alphabet


def test_param_count_matches_transformers():
    from transformers import LlamaForCausalLM

    shape = architecture.preset("nano")
    model = LlamaForCausalLM(architecture.llama_config(shape, 500))
    assert architecture.count_params(shape, 500)["total"] == model.num_parameters()
    est = architecture.estimate(architecture.preset("tiny"), 2000)
    assert est["flops_per_token_train"] == 3 * est["flops_per_token_forward"] > 6 * est["non_embedding_params"]
    with pytest.raises(LabError):
        architecture.preset("tiny", d_model=100)  # 100 is not divisible by 4 heads... into an even head_dim


def test_scaling_experiment_shapes_and_log_plot():
    from apps.pretrain import scaling
    from apps.pretrain.config import PretrainConfig

    cfgs = scaling.configs(PretrainConfig(corpus=["lessons-zh"], preset="tiny", d_model=256, context=64, label="s"))
    assert [c.preset for c in cfgs] == ["nano", "micro", "tiny"]
    assert all(c.d_model is None and c.context == 64 for c in cfgs)  # the size varies, the data windows do not
    sizes = [architecture.count_params(c.shape(), 2000)["total"] for c in cfgs]
    assert sizes == sorted(sizes) and sizes[-1] > 4 * sizes[0]
    rows = [{"preset": c.preset, "params": n, "val_loss": 6 - i, "final_loss": 5 - i} for i, (c, n) in enumerate(zip(cfgs, sizes))]
    ax = scaling.figure(rows, "en").axes[0]
    assert ax.get_xscale() == "log" and len(ax.lines) == 2
