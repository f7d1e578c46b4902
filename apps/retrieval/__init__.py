"""The RAG stage's app glue: the tab (view.py) and `llmlab rag …` (cli.py). The logic is in `rag/`."""
