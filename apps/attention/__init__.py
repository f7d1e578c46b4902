"""The Attention tab: see what each head attends to, and recompute it from the weights.

extract.py (one forward pass with output_attentions and the attention inputs), from_scratch.py
(the teaching function), recipes.py (weights out of transformers models, agreement check),
stats.py (per-head summaries), plots.py (matplotlib), bertviz_page.py + assets.py + web.py
(bertviz served with local JavaScript), analysis.py (glue for view and CLI), cli.py, view.py.
"""
