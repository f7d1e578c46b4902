"""Alignment: preference pairs from the Arena's votes (prefs), reward models (reward), the CLI (cli)."""
