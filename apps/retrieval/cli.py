"""`llmlab rag build|query|eval|ask …`: the same subcommands as `python -m rag` (see rag/cli.py)."""
from __future__ import annotations


def register(subparsers) -> None:
    from rag.cli import add_commands

    parser = subparsers.add_parser("rag", help="RAG over FAISS: build, query, eval, ask / 检索增强生成")
    add_commands(parser.add_subparsers(dest="rag_command", required=True))
