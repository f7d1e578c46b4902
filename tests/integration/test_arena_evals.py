"""Automatic evals on the real offline models: perplexity against transformers' own loss, the
sliding window, multiple-choice log-likelihoods against one-at-a-time scoring, and the data files."""
import math

import pytest
import torch

from apps.arena import evals
from apps.errors import LabError


def test_perplexity_equals_transformers_loss(smollm):
    text = evals.heldout("en")[0]
    ids = smollm.tokenizer(text, return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        hf_loss = float(smollm.model(input_ids=ids, labels=ids).loss)  # HF's mean shifted cross-entropy
    res = evals.perplexity(smollm, text, window=1024)
    assert res.tokens == ids.shape[1] - 1
    assert res.mean_loss == pytest.approx(hf_loss, abs=2e-4)
    assert res.perplexity == pytest.approx(math.exp(res.mean_loss), rel=1e-3)
    assert res.bits_per_byte == pytest.approx(res.mean_loss * res.tokens / math.log(2) / len(text.encode()), rel=1e-3)


def test_sliding_window_scores_every_token_once(gemma):
    text = evals.heldout("zh")[1]
    full, ids = evals.token_losses(gemma, text, window=4096)
    windowed, _ = evals.token_losses(gemma, text, window=32)
    assert windowed.shape == full.shape == (len(ids) - 1,)
    assert abs(windowed[:31] - full[:31]).max() < 1e-3  # the first window sees the same context
    # later tokens see at most 31 tokens of context, so they cannot be predicted better on average
    assert windowed[31:].mean() >= full[31:].mean() - 0.05


def separate_logliks(lm, context, conts):
    """Each continuation scored on its own, unpadded: the sum of log P(token) over the tokens that
    tokenize(context + cont) adds beyond tokenize(context), straight from the model's logits."""
    out = []
    for cont in conts:
        ctx_ids = lm.tokenizer(context)["input_ids"]
        whole = lm.tokenizer(context + cont)["input_ids"]
        with torch.inference_mode():
            logp = torch.log_softmax(lm.model(input_ids=torch.tensor([whole])).logits[0].float(), -1)
        out.append(sum(float(logp[t - 1, whole[t]]) for t in range(len(ctx_ids), len(whole))))
    return out


def argmax(xs):
    return max(range(len(xs)), key=xs.__getitem__)


def test_mc_logliks_match_separate_scoring(gemma):
    context, conts = "Question: What is frozen water called?\nAnswer:", [" ice", " steam", " a very long answer"]
    batched = evals.choice_logliks(gemma, context, conts)
    for got, want in zip(batched, separate_logliks(gemma, context, conts)):
        assert got == pytest.approx(want, abs=1e-3)  # right padding changes nothing
    assert batched[0] > batched[1]


def test_multiple_choice_scores_and_data(smollm):
    for lang in ("en", "zh"):
        questions = evals.load_mc(evals.mc_path(lang))
        assert len(questions) >= 20 and all(len(q["choices"]) == 4 for q in questions)
        assert len(evals.heldout(lang)) >= 6
    questions = evals.load_mc(evals.mc_path("en"))[:4]
    res = evals.multiple_choice(smollm, questions, "en")
    assert res["n"] == 4 and res["chance"] == 0.25 and res["acc_norm_by"] == "characters"
    hits = hits_norm = 0
    for row, q in zip(res["questions"], questions):
        lls = separate_logliks(smollm, f"Question: {q['question']}\nAnswer:", [" " + c for c in q["choices"]])
        assert row["logliks"] == pytest.approx(lls, abs=2e-3)
        hits += argmax(lls) == q["answer"]
        hits_norm += argmax([ll / len(c) for ll, c in zip(lls, q["choices"])]) == q["answer"]
    assert res["acc"] == hits / 4 and res["acc_norm"] == hits_norm / 4


def test_acc_norm_is_the_harness_per_character_on_chinese(smollm):
    """lm-evaluation-harness divides by len(choice) in characters. Here every choice has 5 characters,
    so its acc_norm must pick what acc picks; dividing by UTF-8 bytes instead (7 for '1949年', 15 for
    '一九四九年') picks another answer with this model, so the old normalisation fails this test."""
    choices = ["1949年", "一九四九年", "1950年", "一九五零年"]
    assert {len(c) for c in choices} == {5}
    q = {"question": "中华人民共和国成立于哪一年？", "choices": choices, "answer": 0}
    lls = separate_logliks(smollm, "问题：中华人民共和国成立于哪一年？\n答案：", choices)
    by_bytes = argmax([ll / len(c.encode("utf-8")) for ll, c in zip(lls, choices)])
    assert argmax(lls) == 0 and by_bytes != 0  # the case where the two definitions disagree
    res = evals.multiple_choice(smollm, [q], "zh")
    assert res["questions"][0]["pred_norm"] == 0 and res["acc_norm"] == 1.0 and res["acc"] == 1.0


def test_bad_inputs(tmp_path, cache):
    with pytest.raises(LabError):
        evals.perplexity("all-minilm-l6-v2", "some text", cache=cache)
    with pytest.raises(LabError) as err:
        evals.perplexity("api:deepseek/deepseek-chat", "some text", cache=cache)
    assert err.value.key == "arena.not_lm"
    bad = tmp_path / "mc.jsonl"
    bad.write_text('{"question": "q", "choices": ["a", "b"], "answer": 5}\n')
    with pytest.raises(LabError) as err:
        evals.load_mc(bad)
    assert err.value.key == "arena.bad_mc"


def test_cli_perplexity_and_mc(capsys, smollm):
    import json

    from apps.cli import main

    assert main(["arena", "perplexity", "--model", "smollm2-135m-instruct", "--lang", "zh", "--json"]) == 0
    [res] = json.loads(capsys.readouterr().out)["results"]
    assert res["perplexity"] == pytest.approx(math.exp(res["mean_loss"]), rel=1e-3) and res["tokens"] > 100
    assert main(["arena", "mc", "--model", "smollm2-135m-instruct", "--lang", "zh", "--limit", "2", "--json"]) == 0
    [res] = json.loads(capsys.readouterr().out)["results"]
    assert res["n"] == 2 and 0 <= res["acc"] <= 1 and "questions" not in res
