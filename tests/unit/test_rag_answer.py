"""An answer's citations are what it really cites among the retrieved chunks; its language is checked."""
from rag.answer import build_messages, citation_report, same_language
from rag.chunking import Chunk
from rag.render import answer_footer
from rag.store import Hit

HITS = [Hit(Chunk(i, f"docs/lesson-{i + 1}.md", 0, 10, f"chunk {i + 1}"), 1.0, i + 1) for i in range(5)]
SOURCES = [h.chunk.source for h in HITS]


def test_a_list_of_markers_is_not_a_citation():
    report = citation_report("[1] [2] [3] [4] [5] [6] [7] … [17", len(HITS))
    assert report.cited == [] and report.listed and report.unknown == [6, 7]
    footer = answer_footer(report, SOURCES, "en")
    assert "cites no source" in footer and "[6] [7]" in footer and "Cited:" not in footer


def test_only_stated_and_retrieved_chunks_count():
    report = citation_report("GQA shares keys [2][4]. 它节省显存【1】，参见 [1, 9]。", len(HITS))
    assert report.cited == [2, 4, 1] and report.unknown == [9] and not report.listed
    footer = answer_footer(report, SOURCES, "en")
    assert footer.startswith("Cited: [2] lesson-2.md, [4] lesson-4.md, [1] lesson-1.md")
    assert "[3]" not in footer and "[5]" not in footer


def test_the_prompt_asks_for_the_question_language_and_the_footer_says_when_it_cannot():
    assert build_messages("为什么要用 GQA？", HITS)[1]["content"].endswith("请用中文回答。")
    assert build_messages("Why GQA?", HITS)[1]["content"].endswith("Answer in English.")
    assert not same_language("为什么要用 GQA？", "Because it shares the keys [1].")
    assert same_language("为什么要用 GQA？", "因为它共享键和值 [1]。") and same_language("Why?", "Because [1].")
    smollm = answer_footer(citation_report("x", 5), SOURCES, "zh", "为什么？", "Because.", ("en",))
    assert "无法可靠地用中文回答" in smollm
    wrong = answer_footer(citation_report("x", 5), SOURCES, "en", "为什么？", "Because it is so.", ("zh", "en"))
    assert "did not answer in the question's language (Chinese)" in wrong
