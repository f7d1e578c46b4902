"""Stage ⑦: quantisation and inference — make a model smaller and faster, and measure what it costs.

byhand.py (one matrix: absmax / zero-point, int8 / int4, per tensor / channel / group), qlinear.py
(weight-only int8 / int4 Linear layers, whole-model quantisation), methods.py (int8, int4, bf16,
nf4 and what each needs), measure.py (size, perplexity, decode speed; the CLI contract),
store.py (a quantised model as a folder), gguf_types.py (the shipped GGUFs' tensor types),
tricks.py (KV cache, GQA cache size, prompt-lookup decoding, sdpa vs eager), plots.py, cli.py, view.py.
"""
