"""Alignment: preference pairs from the Arena's votes (prefs), reward models (reward), rewards and RL
(GRPO: rewards, grpo) on top of the fine-tuning stage's runner, and the CLI (cli)."""
