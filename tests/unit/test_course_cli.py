"""`llmlab course list|check|progress` through the real CLI entry point (model-free exercises)."""
import json

from apps.cli import main
from curriculum import exercises as ex_mod


def run(capsys, *argv):
    code = main(list(argv))
    return code, capsys.readouterr()


def test_list(capsys):
    code, out = run(capsys, "course", "list", "--json")
    items = json.loads(out.out)
    assert code == 0 and [i["id"] for i in items] == ex_mod.ids()
    code, out = run(capsys, "course", "list", "--stage", "evaluation", "--lang", "zh")
    assert code == 0 and "Bradley-Terry" in out.out and "playground" not in out.out


def test_check_right_wrong_and_bad_input(tmp_path, capsys):
    db = str(tmp_path / "p.db")
    # Worked by hand: A wins 2 of its 3 games (one of them over C), C wins 3 of 5, B 1 of 4, so the
    # maximum-likelihood Bradley–Terry fit ranks A first although C has the most wins.
    right = "A"
    code, out = run(capsys, "course", "check", "evaluation.bt_top", right.lower(), "--student", "Li Lei", "--db", db, "--json")
    assert code == 0 and json.loads(out.out)["correct"] is True
    code, out = run(capsys, "course", "check", "evaluation.bt_top", "C", "--student", "Li Lei", "--db", db)
    assert code == 1 and "Not yet" in out.out
    code, out = run(capsys, "course", "check", "api.rouge1", "abc", "--db", db)
    assert code == 2 and "not a number" in out.err
    code, out = run(capsys, "course", "check", "no.such", "1", "--db", db)
    assert code == 2
    code, out = run(capsys, "course", "check", "api.rouge1", "0.1", "--db", db, "--no-record")
    assert code == 1

    export = tmp_path / "progress.jsonl"
    code, out = run(capsys, "course", "progress", "--db", db, "--export", str(export), "--json")
    summary = json.loads(out.out)
    assert code == 0 and summary["n_attempts"] == 2 and summary["exported"] == str(export.resolve())
    assert [json.loads(x)["correct"] for x in export.read_text().splitlines()] == [True, False]
    code, out = run(capsys, "course", "progress", "--db", db, "--student", "Li Lei", "--json")
    assert json.loads(out.out)["solved"] == ["evaluation.bt_top"]
