"""Strings of the shell (header, language switch)."""
STRINGS = {
    "shell.header": (
        "# 大模型 0→1 实验室\n沿着学习路线动手实践：体验模型 → 看懂注意力 → 检索增强 → 调用 API → 微调 → 评测。",
        "# LLM 0→1 Lab\nLearn by doing, one roadmap stage per tab: play with models → see attention → RAG → call APIs → fine-tune → evaluate.",
    ),
    "gradio.complete": ("完成", "Done"),
}
