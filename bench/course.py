"""What a classroom's Check costs: each exercise's first (cold) answer, a cached check, and progress
writes from 30 students at once, SQLite WAL (ours) side by side with a JSON file rewritten under a
lock (what a quick script would do). Prints JSON.

    python bench/course.py                 # everything (loads SmolLM2 and MiniLM; ~1 min on 2 cores)
    python bench/course.py --no-models     # only the progress store
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
import sys
from pathlib import Path

# Run as `python bench/course.py`, this folder comes first on sys.path, and bench/rag.py would shadow
# the `rag` package the checkers import: put the repository root first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from curriculum.progress import Attempt, ProgressStore  # noqa: E402


def answers_bench() -> dict:
    from curriculum import exercises as ex_mod
    from curriculum.checkers import Answers

    answers = Answers()
    cold = {}
    for ex in ex_mod.exercises():
        started = time.perf_counter()
        expected = answers.expected(ex)  # shared intermediates (RAG index, attention run) count once
        cold[ex.id] = round(time.perf_counter() - started, 3)
        assert answers.check(ex, str(expected.value)).correct
    warm = []
    for ex in ex_mod.exercises():
        started = time.perf_counter()
        answers.check(ex, str(answers.expected(ex).value))
        warm.append(time.perf_counter() - started)
    return {"cold_s": cold, "cold_total_s": round(sum(cold.values()), 2),
            "cached_check_ms_median": round(1000 * statistics.median(warm), 4)}


def _json_file_writer(path: Path, lock: threading.Lock, attempt: Attempt) -> None:
    """The baseline: read the whole file, append, write it back (atomically), all under one lock."""
    with lock:
        rows = json.loads(path.read_text()) if path.exists() else []
        rows.append(attempt.__dict__)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(rows))
        tmp.replace(path)


def writes_bench(students: int = 30, each: int = 20) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="llmlab-bench-course-"))
    store, lock, json_path = ProgressStore(folder / "p.db"), threading.Lock(), folder / "p.json"

    def run(write) -> float:
        def student(i):
            for j in range(each):
                write(Attempt(exercise="api.rouge1", answer=str(j), correct=j % 2 == 0, student=f"s{i}"))
        threads = [threading.Thread(target=student, args=(i,)) for i in range(students)]
        started = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        return time.perf_counter() - started

    ours = run(store.record)
    base = run(lambda a: _json_file_writer(json_path, lock, a))
    n = students * each
    assert store.count() == n and len(json.loads(json_path.read_text())) == n
    return {"attempts": n, "sqlite_wal_s": round(ours, 3), "json_rewrite_s": round(base, 3),
            "sqlite_per_s": round(n / ours), "json_per_s": round(n / base), "ratio": round(base / ours, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-models", action="store_true", help="skip the answers (no model is loaded)")
    parser.add_argument("--students", type=int, default=30, help="concurrent writers")
    parser.add_argument("--each", type=int, default=20, help="attempts per writer")
    args = parser.parse_args()
    out = {"writes": writes_bench(args.students, args.each)}
    if not args.no_models:
        out["answers"] = answers_bench()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
