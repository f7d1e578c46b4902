"""`python -m apps` is the `llmlab` CLI."""
from apps.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
