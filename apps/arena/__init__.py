"""The eval arena: blind pairwise battles, Elo / Bradley-Terry ratings, and automatic evals.

Logic modules (no gradio): `ratings` (maths), `votefile` (Chatbot Arena battle JSONL), `store`
(SQLite WAL), `contestants`, `battles`, `evals` (perplexity, multiple choice), `judge`
(LLM-as-judge), `plots` (matplotlib). `view` is the Gradio tab, `cli` the `llmlab arena` commands.
"""
