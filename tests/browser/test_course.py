"""A student on the Roadmap tab: types a name, answers one exercise right and one wrong, sees both
verdicts and the progress bar move, reloads and keeps everything; the teacher sees the class summary."""
import os
import tempfile
import uuid

import pytest

from curriculum import exercises as ex_mod

pytestmark = pytest.mark.browser

# The live app reads this when it is built (once per session, after collection): tests never write
# into the real classroom database.
os.environ.setdefault("LLMLAB_PROGRESS_DB", os.path.join(tempfile.mkdtemp(prefix="llmlab-course-test-"), "progress.db"))
TOTAL = len(ex_mod.ids())


def _field(page, elem_id):
    return page.locator(f"#{elem_id} textarea, #{elem_id} input").first


def test_answers_verdicts_and_progress(page, open_tab, smollm):
    name = f"Tester {uuid.uuid4().hex[:6]}"
    p = open_tab("course")
    p.locator("#course-progress").get_by_text(f"Anonymous learner: 0 of {TOTAL}").wait_for()  # page loaded, in English
    _field(p, "course-student").fill(name)
    _field(p, "course-student").press("Enter")
    p.locator("#course-progress").get_by_text(f"{name}: 0 of {TOTAL} exercises solved").wait_for()
    p.locator("#course-lesson-acc-playground").get_by_text("Lesson", exact=True).click()
    p.locator("#course-lesson-playground").get_by_text("Lesson 1").first.wait_for()  # rendered in English

    # right: the number of tokens SmolLM2's own tokenizer makes of the sentence
    text = ex_mod.get("playground.tokens_zh").params["text"]
    right = len(smollm.tokenizer(text, add_special_tokens=False)["input_ids"])
    _field(p, "course-a-playground-tokens-zh").fill(str(right))
    p.locator("#course-check-playground-tokens-zh").click()
    p.locator("#course-v-playground-tokens-zh").get_by_text("Correct").wait_for(timeout=120_000)
    assert str(right) in p.locator("#course-v-playground-tokens-zh").inner_text()

    # wrong: a whole word where the model's first token is only part of one
    _field(p, "course-a-playground-first-token").fill("Bonjour!!")
    p.locator("#course-check-playground-first-token").click()
    p.locator("#course-v-playground-first-token").get_by_text("Not yet").wait_for(timeout=120_000)

    p.locator("#course-progress").get_by_text(f"{name}: 1 of {TOTAL} exercises solved").wait_for()
    assert f"1/{len(ex_mod.exercises('playground'))}" in p.locator("#course-path").inner_text()

    # a bad answer is explained inline and not counted
    _field(p, "course-a-playground-first-prob").fill("about half")
    p.locator("#course-check-playground-first-prob").click()
    p.locator("#course-v-playground-first-prob").get_by_text("is not a number").wait_for(timeout=120_000)

    # nothing is lost on reload: the browser remembers the name, the server the progress
    p.reload()
    p.wait_for_selector("#lang-switch")
    p.locator("#course-progress").get_by_text(f"{name}: 1 of {TOTAL} exercises solved").wait_for()
    assert _field(p, "course-student").input_value() == name
    p.locator("#course-v-playground-tokens-zh").get_by_text("You have solved this one (attempts: 1)").wait_for()
    assert p.locator("#course-v-playground-first-token").inner_text().strip() == ""

    # the teacher's view
    p.locator("#course-teacher").get_by_text("Teacher panel").click()
    p.locator("#course-refresh").click()
    p.locator("#course-summary").get_by_text("attempts in all").wait_for()
    p.locator("#course-summary-plot img, #course-summary-plot svg, #course-summary-plot canvas").first.wait_for()
    assert name in p.locator("#course-students").inner_text()
    p.locator("#course-export-csv").click()
    p.locator("#course-export-file a").first.wait_for()

    # the whole roadmap follows the language switch: lesson, exercises, progress
    p.locator("#lang-switch label").filter(has_text="中文").click()
    p.locator("#course-q-playground-tokens-zh").get_by_text("分词器").wait_for()
    p.locator("#course-progress").get_by_text(f"{name}：已完成 1 / {TOTAL} 道题").wait_for()
    p.locator("#course-lesson-acc-playground").get_by_text("课文", exact=True).click()
    p.locator("#course-lesson-playground").get_by_text("第一课").first.wait_for()
    assert not p.blocked_requests, p.blocked_requests[:3]
