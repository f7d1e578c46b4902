"""LLM 0→1 Lab: the product. One subpackage per roadmap stage, plus the Gradio shell and the CLI.

Only `shell.py` and the `view.py` of each stage import gradio; everything else is plain Python that
a notebook, a script or the `llmlab` CLI can drive.
"""
