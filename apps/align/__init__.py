"""Alignment: rewards and RL (GRPO) on top of the fine-tuning stage's runner."""
