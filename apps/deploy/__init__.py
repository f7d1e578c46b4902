"""Deployment stage: chat in the terminal (chat.py, cli.py), load-test an endpoint (loadtest.py),
connect servers and consoles (connect.py), and export your first AI app (export.py)."""
