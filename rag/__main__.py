"""`python -m rag build|query|eval|ask …` — see rag/cli.py."""
from rag.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
