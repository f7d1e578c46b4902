"""A classroom in three browsers: Cara and Dan join on the real sign-in page, the teacher signs in too.
Cara's name is the signed-in one (no name box), Dan cannot open the teacher's panel, the teacher sees
the roster; signing out ends the session. Every request off this machine is blocked (no CDN)."""
from __future__ import annotations


import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def sign_in_page(ctx, base, code, name, password):
    page = ctx.new_page()
    page.set_default_timeout(120_000)
    page.goto(base)
    page.wait_for_url("**/login")  # no cookie: the lab sends the browser to the sign-in page
    assert "Class code" in page.content()
    page.fill("#code", code)
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("#login-submit")
    page.wait_for_selector("#lang-switch")
    page.locator("#signed-in-as").get_by_text(name).wait_for()
    return page


def test_two_students_and_a_teacher(new_context, classroom_lab):
    base, code = classroom_lab["base"], classroom_lab["info"]["code"]
    contexts = [new_context() for _ in range(3)]
    try:
        cara_ctx, dan_ctx, teacher_ctx = contexts
        # a wrong password: the page says so, in English, and no cookie is set
        page = teacher_ctx.new_page()
        page.goto(f"{base}/login")
        page.fill("#code", code)
        page.fill("#name", "teacher")
        page.fill("#password", "a-students-guess")
        page.click("#login-submit")
        page.locator("#login-error").get_by_text("wrong").wait_for()
        assert not [c for c in teacher_ctx.cookies() if c["name"] == "llmlab_session"]
        page.close()

        cara = sign_in_page(cara_ctx, base, code, "Cara", "cara-password")
        dan = sign_in_page(dan_ctx, base, code, "Dan", "dan-password")
        teacher = sign_in_page(teacher_ctx, base, code, "teacher", classroom_lab["info"]["teacher_password"])
        assert "student" in cara.locator("#signed-in-as").inner_text()
        assert "teacher" in teacher.locator("#signed-in-as").inner_text()
        cookie = next(c for c in cara_ctx.cookies() if c["name"] == "llmlab_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

        # the Roadmap knows Cara by her sign-in: no name box to type someone else's name into
        cara.locator("#tab-course-button").click()
        cara.locator("#course-progress").get_by_text("Cara: ").wait_for()
        expect(cara.locator("#course-student")).to_have_count(0)

        # Dan asks for the teacher's panel: refused, nothing shown
        dan.locator("#tab-classroom-button").click()
        dan.locator("#classroom-refresh").click()
        dan.get_by_text("Only the teacher can do this.").first.wait_for()
        assert "Cara" not in dan.locator("#classroom-roster-table").inner_text()

        # the teacher sees the class
        teacher.locator("#tab-classroom-button").click()
        teacher.locator("#classroom-refresh").click()
        table = teacher.locator("#classroom-roster-table")
        table.get_by_text("Cara").first.wait_for()
        assert "Dan" in table.inner_text()
        # in Chinese, the roster on screen follows: its headers, roles and the status line
        teacher.locator("#lang-switch label").filter(has_text="中文").click()
        table.get_by_text("已设密码").first.wait_for()
        teacher.locator("#classroom-status").get_by_text("班里共").wait_for()

        # signing out: back to the sign-in page, and the lab is closed again
        dan.goto(f"{base}/logout")
        dan.wait_for_url("**/login")
        dan.goto(base)
        dan.wait_for_url("**/login")
        for ctx in contexts:
            assert not ctx.blocked, ctx.blocked[:3]
    finally:
        for ctx in contexts:
            ctx.close()
