"""A lab model exported to GGUF loads back, outside the lab, with the same outputs.

The model is built the way the pretraining stage builds one (its tokenizer trainer, its LlamaConfig),
saved as a plain folder, exported with `llmlab quantize export`, and read back by transformers'
own GGUF loader and by llama.cpp (xllamacpp, or llama-cpp-python where `make llama` put it).
"""
from __future__ import annotations

import json

import pytest
import torch

from apps.cli import main
from apps.models import llamacpp_backends
from apps.pretrain import architecture, tokenizer as bpe

TEXTS = ["the cat sat on the mat and the dog sat on the log. " * 3, "猫坐在垫子上，狗坐在木头上。" * 3,
         "a model learns to predict the next token from the tokens before it. " * 3] * 4


@pytest.fixture(scope="module")
def lab_folder(tmp_path_factory):
    from transformers import LlamaForCausalLM

    tok = bpe.train(TEXTS, vocab_size=300, min_frequency=1)
    torch.manual_seed(0)
    model = LlamaForCausalLM(architecture.llama_config(architecture.preset("nano"), len(tok), tok.eos_token_id))
    folder = tmp_path_factory.mktemp("pretrained")
    model.save_pretrained(folder, safe_serialization=True)
    tok.save_pretrained(folder)
    return folder, model.eval(), tok


def _export(folder, out, qtype, capsys) -> dict:
    assert main(["quantize", "export", "--model", str(folder), "--output", str(out), "--gguf-type", qtype, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("qtype,tolerance", [("f32", 1e-4), ("q8_0", 0.05)])
def test_export_loads_back_in_transformers_with_the_same_logits(lab_folder, tmp_path, capsys, qtype, tolerance):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, model, tok = lab_folder
    out = tmp_path / "tiny.gguf"
    r = _export(folder, out, qtype, capsys)
    assert r["qtype"] == qtype and out.stat().st_size > 0
    back = AutoModelForCausalLM.from_pretrained(tmp_path, gguf_file=out.name, dtype=torch.float32).eval()
    back_tok = AutoTokenizer.from_pretrained(tmp_path, gguf_file=out.name)
    text = "the dog sat on 猫"
    ids = tok(text, return_tensors="pt", add_special_tokens=False).input_ids
    assert back_tok(text, add_special_tokens=False).input_ids == ids[0].tolist()
    with torch.no_grad():
        want, got = model(ids).logits, back(ids).logits
    scale = want.abs().max().item()
    assert (want - got).abs().max().item() <= tolerance * max(1.0, scale)
    assert torch.equal(want.argmax(-1), got.argmax(-1))


@pytest.mark.skipif(llamacpp_backends.backend() is None,
                    reason="no llama.cpp binding installed (xllamacpp: `make install`)")
def test_llama_cpp_runs_the_export_greedy_like_the_lab(lab_folder, tmp_path, capsys):
    folder, model, tok = lab_folder
    out = tmp_path / "tiny.gguf"
    _export(folder, out, "f32", capsys)
    ids = tok("the cat sat", add_special_tokens=False).input_ids
    with torch.no_grad():
        want = model.generate(torch.tensor([ids]), max_new_tokens=8, do_sample=False,
                              pad_token_id=tok.eos_token_id, eos_token_id=None)[0, len(ids):].tolist()
    llm = llamacpp_backends.open_gguf(str(out), n_ctx=64, n_threads=1)  # whichever binding is installed
    assert llm.tokenize("the cat sat", add_bos=False, special=False) == ids
    got = []
    llm.eval(ids)
    while len(got) < len(want):
        got.append(int(llm.logits().argmax()))
        llm.eval(got[-1:])
    llm.close()
    assert got == want


def test_bad_export_requests_exit_2_before_loading(tmp_path, capsys):
    existing = tmp_path / "made.gguf"
    existing.write_bytes(b"mine")
    cases = [
        ["--model", "smollm2-135m-instruct", "--output", str(tmp_path / "x.bin")],            # not .gguf
        ["--model", "smollm2-135m-instruct", "--output", str(existing)],                     # would overwrite
        ["--model", "smollm2-135m-instruct", "--output", str(tmp_path / "no" / "x.gguf")],   # no folder
        ["--model", "smollm2-135m-instruct", "--output", str(tmp_path / "y.gguf"), "--gguf-type", "q3"],
        ["--model", "smollm2-135m-instruct+int8", "--output", str(tmp_path / "z.gguf")],     # export floats
        ["--model", "smollm2-135m-instruct"],                                                # no output
    ]
    for args in cases:
        assert main(["quantize", "export", *args]) == 2, args
        err = capsys.readouterr().err
        assert err.startswith("error: ") and "Traceback" not in err and "{" not in err
    assert existing.read_bytes() == b"mine"
