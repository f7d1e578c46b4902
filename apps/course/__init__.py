"""The Roadmap tab ("course"): lessons, exercises with automatic checkers, students' progress.

Logic lives in `curriculum.exercises`, `curriculum.checkers` and `curriculum.progress`; here are
the tab (view.py), the summary plot (plots.py) and `llmlab course` (cli.py).
"""
