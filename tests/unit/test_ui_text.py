"""What a learner reads: plurals, language-neutral messages, glyphs the fonts can draw, figures whose
labels say something (no gradio here: the views' text helpers and the plots are plain modules)."""
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from apps.i18n import msg, plural, render, t, table

ROOT = Path(__file__).resolve().parents[2]
# What `make test-deps` and a plain Debian desktop give chromium: fonts-wqy-microhei and DejaVu.
FONT_FILES = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
              "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")
# Zero-width and variation characters draw nothing of their own.
INVISIBLE = {"\u200b", "\u200c", "\u200d", "\ufe0e", "\ufe0f"}


def test_plural_forms_follow_the_count():
    assert t("course.summary", "en", students=1, attempts=1) == "1 student, 1 attempt in all."
    assert t("course.summary", "en", students=2, attempts=5) == "2 students, 5 attempts in all."
    assert t("course.summary", "zh", students=1, attempts=1) == "1 位同学，共 1 次作答。"
    assert t("rag.status.skipped", "en", n=1, details="x") == "1 unreadable file skipped: x"
    assert plural(1, "file", "files") == "1 file" and plural(0, "file", "files") == "0 files"
    assert t("gen.failed", "en", reason="{x:.1f}") == "Generation failed: {x:.1f}"  # a value is never a format


def test_messages_render_in_either_language_and_nest():
    status = msg("rag.status.built", sources=1, chunks=2, dim=384, index="flat", seconds=0.5,
                 skipped=msg("rag.status.none_skipped"))
    assert render(status, "en").startswith("✓ Index built: 1 file, 2 chunks") and "no files skipped" in render(status, "en")
    assert "1 个文件" in render(status, "zh") and "没有跳过文件" in render(status, "zh")
    assert render(None, "en") == "" and render("as is", "zh") == "as is"
    assert render(msg("course.bad_answer", why=msg("course.empty_answer")), "zh") == "⚠ 请先填一个答案。"


def _covered() -> set[int]:
    fonttools = pytest.importorskip("fontTools.ttLib")
    missing = [f for f in FONT_FILES if not Path(f).exists()]
    if missing:
        pytest.fail(f"fonts missing: {missing}; `make test-deps` installs fonts-wqy-microhei (DejaVu comes with chromium)")
    codes: set[int] = set()
    for path in FONT_FILES:
        fonts = fonttools.TTCollection(path).fonts if path.endswith(".ttc") else [fonttools.TTFont(path, lazy=True)]
        for font in fonts:
            codes |= set(font["cmap"].getBestCmap())
    return codes


def test_every_string_and_view_draws_with_the_installed_fonts():
    """⓪, ✅, ❌ and emoji showed as boxes in Debian's chromium: the page may only use glyphs
    fonts-wqy-microhei or DejaVu have (a plain mark, or CSS, where a picture was meant)."""
    covered = _covered()
    texts = {f"i18n {key}": " ".join(pair) for key, pair in table().items()}
    for folder in ("apps", "rag"):
        for path in (ROOT / folder).rglob("*.py"):
            texts[str(path.relative_to(ROOT))] = path.read_text(encoding="utf-8")
    bad = {}
    for where, text in texts.items():
        for ch in set(text):
            if ord(ch) > 0x7F and ch not in INVISIBLE and ord(ch) not in covered and not ch.isspace():
                bad.setdefault(f"{ch} U+{ord(ch):04X} {unicodedata.name(ch, '?')}", []).append(where)
    assert not bad, "glyphs the fonts lack: " + "; ".join(f"{k} in {v[:3]}" for k, v in sorted(bad.items()))


def test_the_embedding_map_keeps_its_legend_off_the_points():
    from rag.plots import map_figure

    rng = np.random.default_rng(0)
    coords = rng.normal(size=(60, 2))
    sources = [f"lesson-{i % 6}.md" for i in range(60)]
    fig = map_figure(coords, sources, coords[3], [1, 2], title="t", query_label="q")
    fig.canvas.draw()
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent()
    assert legend.x0 >= ax.get_window_extent().x1  # right of the axes, over no point
    assert len(ax.get_legend().get_texts()) == 7  # six sources and the question


def test_the_solve_rate_chart_names_exercises_by_title():
    from apps.course.plots import solve_rates
    from curriculum import exercises

    ex = exercises.exercises()[0]
    summary = {"exercises": [{"exercise": ex.id, "students": 2, "solved": 1, "solve_rate": 0.5, "attempts": 3},
                             {"exercise": "gone.exercise", "students": 1, "solved": 0, "solve_rate": 0.0, "attempts": 1}]}
    fig = solve_rates(summary, "en")
    labels = [x.get_text() for x in fig.axes[0].get_yticklabels()]
    assert ex.title_in("en").startswith(labels[0].rstrip("…")) and labels[0] != ex.id
    assert labels[1] == "gone.exercise"  # an exercise since removed keeps its id
