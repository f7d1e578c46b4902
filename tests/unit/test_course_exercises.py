"""Exercise definitions and how answers are read: numbers, percents, tolerance, normalised text."""
import pytest

from apps.errors import LabError
from apps.i18n import t
from curriculum import exercises as ex_mod
from curriculum import lessons
from curriculum.checkers import CHECKERS, Expected, matches, normalise, parse_int, parse_number


def test_every_stage_has_two_to_four_bilingual_exercises_with_a_checker():
    stages = [s for s, _ in ex_mod.STAGES]
    assert stages == [lesson.stage for lesson in lessons("en")]  # one stage per lesson, same order
    for stage in stages:
        found = ex_mod.exercises(stage)
        assert 2 <= len(found) <= 4, stage
        for ex in found:
            assert ex.checker in CHECKERS, ex.id
            assert ex.prompt[0] != ex.prompt[1] and ex.hint[0] != ex.hint[1], ex.id  # really two languages
            assert any("\u4e00" <= ch <= "\u9fff" for ch in ex.hint[0]), ex.id
            if ex.kind == "number":
                assert ex.tolerance or ex.rel_tolerance, f"{ex.id}: a numeric answer needs a tolerance"
                assert all("±" in text for text in ex.prompt), f"{ex.id}: the prompt must state it"
            assert t(f"{ex.tab}.tab", "en") != f"{ex.tab}.tab", ex.tab  # the tab it points to exists
    assert len(ex_mod.ids()) == len(set(ex_mod.ids()))


def test_unknown_exercise_is_a_lab_error():
    with pytest.raises(LabError) as err:
        ex_mod.get("nope.nothing")
    assert "playground.tokens_zh" in err.value.message("en")


def test_numbers_are_read_leniently():
    assert parse_number(" 0.948 ") == 0.948
    assert parse_number("94.8%") == pytest.approx(0.948)  # a plain fraction typed as a percent
    assert parse_number("0.34%", percent=True) == 0.34  # already in percent: the sign is dropped
    assert parse_number("１２") == 12  # full-width digits (Chinese input methods)
    assert parse_number("4,884,480") == 4884480
    assert parse_int("10") == 10 and parse_int("10.0") == 10
    for bad in ("abc", "", "nan", "inf", "1/2"):
        with pytest.raises(LabError):
            parse_number(bad)
    with pytest.raises(LabError) as err:
        parse_int("10.5")
    assert err.value.key == "course.not_an_int"


def test_text_is_normalised():
    assert normalise("  「Bon」。 ") == "bon"
    assert normalise('"A"') == "a"
    assert normalise("Lesson   1") == "lesson 1"
    assert normalise("ＡＢＣ") == "abc"


def _ex(kind, **kw):
    return ex_mod.Exercise(id="api.x", stage="api", title=("题", "q"), prompt=("题", "q"), hint=("提示", "h"),
                           checker="rouge", kind=kind, **kw)


def test_tolerances():
    num = _ex("number", tolerance=0.01)
    assert matches(num, Expected(0.9588), "0.95")[0]
    assert not matches(num, Expected(0.9588), "0.948")[0]
    rel = _ex("number", rel_tolerance=0.01)
    assert matches(rel, Expected(44.12), "44.5")[0] and not matches(rel, Expected(44.12), "44.7")[0]
    exact = _ex("int")
    assert matches(exact, Expected(10), "10")[0] and not matches(exact, Expected(10), "11")[0]
    text = _ex("text")
    assert matches(text, Expected("playground", accept=("playground", "01-playground.zh.md")), "01-Playground.zh.md")[0]
    with pytest.raises(LabError):
        matches(text, Expected("a"), "   ")


def test_a_class_pressing_check_at_once_computes_the_answer_once():
    import threading

    from curriculum.checkers import Answers

    answers, results = Answers(), []
    ex = ex_mod.get("evaluation.bt_top")  # Bradley–Terry from the arena's code: no model needed
    threads = [threading.Thread(target=lambda: results.append(answers.expected(ex))) for _ in range(16)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(results) == 16 and all(r is results[0] for r in results)  # one object: computed once
    assert results[0].value == "A"  # by hand: see tests/unit/test_course_cli.py
    assert answers.check(ex, "a").correct and not answers.check(ex, "C").correct
