"""Pretraining lab: build a tokenizer and train a tiny Llama-style GPT from scratch, and watch it learn.

    llmlab pretrain --corpus seeds-zh --preset tiny --max-steps 300 --output out/zh-tiny --json
    python -m apps.pretrain.train --config runs/pretrain/<id>/run.yaml --output runs/pretrain/<id>

Modules: corpus (read, clean, exact + MinHash near-dup removal, split), tokenizer (byte-level BPE,
merges, compression), architecture (presets, LlamaConfig, params / memory / FLOPs), config
(PretrainConfig + YAML), train (main(cfg): the training loop), checkpoint (save / resume / samples /
export), jobs (owner-checked runs through apps.finetune.runner), scaling (three sizes, loss vs
params), cli, view.
"""
