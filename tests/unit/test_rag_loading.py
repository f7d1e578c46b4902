"""rag.loaders and rag.chunking: every file type, Chinese encodings, bad input, exact offsets."""
from __future__ import annotations

import pytest

from apps.errors import LabError
from rag.chunking import chunk_document, chunk_documents, sentence_spans
from rag.loaders import Document, load_file, load_paths

ZH = "大模型的核心是注意力机制。它让每个词都能看到上下文！为什么要缩放？因为点积会变大；这会让 softmax 过于尖锐。\n\n第二段：LoRA 只训练低秩矩阵。"


def test_utf8_and_gbk_and_gb18030_text(tmp_path):
    for encoding in ("utf-8", "gbk", "gb18030", "utf-8-sig"):
        path = tmp_path / f"doc-{encoding}.txt"
        path.write_bytes(ZH.encode(encoding))
        assert load_file(path).text == ZH, encoding


def test_markdown_html_docx(tmp_path):
    (tmp_path / "a.md").write_text("# 标题\n\n正文内容", encoding="utf-8")
    assert "正文内容" in load_file(tmp_path / "a.md").text
    html = "<html><head><style>p{}</style><script>var x=1</script></head><body><p>检索增强</p><p>RAG works</p></body></html>"
    (tmp_path / "b.html").write_text(html, encoding="utf-8")
    text = load_file(tmp_path / "b.html").text
    assert "检索增强" in text and "RAG works" in text and "var x" not in text
    import docx

    document = docx.Document()
    document.add_paragraph("第一段：量化把权重压到 4 位。")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "GPTQ", "AWQ"
    document.save(tmp_path / "c.docx")
    text = load_file(tmp_path / "c.docx").text
    assert "量化" in text and "GPTQ | AWQ" in text


def _pdf(path, password=None):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    if password:
        writer.encrypt(password)
    with open(path, "wb") as handle:
        writer.write(handle)


def test_bad_files_give_clear_errors(tmp_path, monkeypatch):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.md").write_text("   \n\n  ", encoding="utf-8")
    (tmp_path / "bin.txt").write_bytes(bytes(range(256)) * 40)
    (tmp_path / "x.exe").write_bytes(b"MZ\x00\x00")
    (tmp_path / "broken.docx").write_bytes(b"not a zip at all")
    _pdf(tmp_path / "locked.pdf", password="secret")
    _pdf(tmp_path / "blank.pdf")
    expected = {"empty.txt": "rag.empty_file", "blank.md": "rag.empty_file", "bin.txt": "rag.binary_file",
                "x.exe": "rag.unsupported", "broken.docx": "rag.unreadable", "locked.pdf": "rag.encrypted",
                "blank.pdf": "rag.empty_file"}
    for name, key in expected.items():
        with pytest.raises(LabError) as info:
            load_file(tmp_path / name)
        assert info.value.key == key, name
        assert name in info.value.message("zh") and name in info.value.message("en")
    monkeypatch.setattr("rag.loaders.MAX_FILE_MB", 0.001)
    (tmp_path / "big.txt").write_text("大" * 2000, encoding="utf-8")
    with pytest.raises(LabError) as info:
        load_file(tmp_path / "big.txt")
    assert info.value.key == "rag.too_big"


def test_folders(tmp_path):
    empty = tmp_path / "nothing"
    empty.mkdir()
    (empty / "image.png").write_bytes(b"\x89PNG")
    with pytest.raises(LabError) as info:
        load_paths([empty])
    assert info.value.key == "rag.no_text"
    with pytest.raises(LabError) as info:
        load_paths([tmp_path / "missing"])
    assert info.value.key == "rag.not_found"
    good = tmp_path / "good"
    (good / "sub").mkdir(parents=True)
    (good / "sub" / "a.txt").write_text("甲", encoding="utf-8")
    (good / "b.md").write_text("乙", encoding="utf-8")
    (good / "empty.txt").write_bytes(b"")
    with pytest.raises(LabError):  # strict by default: the empty file is named
        load_paths([good])
    errors = []
    docs = load_paths([good], skip_bad=True, errors=errors)
    assert sorted(d.text for d in docs) == ["乙", "甲"] and [e.key for e in errors] == ["rag.empty_file"]
    (tmp_path / "only-empty.txt").write_bytes(b"")
    with pytest.raises(LabError) as info:  # nothing loads: the real reason, under the name users know
        load_paths([tmp_path / "only-empty.txt"], skip_bad=True, names=["notes.txt"])
    assert info.value.key == "rag.empty_file" and info.value.params["name"] == "notes.txt"


def test_sentence_spans_respect_chinese_and_english_punctuation():
    text = "第一句。第二句！第三句？第四句；Fifth one. Sixth!"
    pieces = [text[s:e] for s, e in sentence_spans(text)]
    assert pieces[:4] == ["第一句。", "第二句！", "第三句？", "第四句；"]
    assert pieces[4].strip() == "Fifth one." and pieces[5].strip() == "Sixth!"


@pytest.mark.parametrize("strategy", ["sentence", "fixed"])
def test_chunks_keep_exact_offsets_and_size(strategy):
    doc = Document("zh.txt", ZH * 8)
    chunks = chunk_document(doc, size=60, overlap=15, strategy=strategy)
    assert len(chunks) > 3
    covered = set()
    for c in chunks:
        assert c.text == doc.text[c.start:c.end] and c.source == "zh.txt"
        assert len(c.text) <= 60
        covered.update(range(c.start, c.end))
    # every non-space character lands in some chunk
    assert all(i in covered for i, ch in enumerate(doc.text) if not ch.isspace())
    if strategy == "sentence":  # cuts fall after sentence punctuation or at paragraph ends
        assert all(c.text[-1] in "。！？；.\n" or c.end == len(doc.text) or len(c.text) >= 55 for c in chunks)


def test_overlap_repeats_text_between_neighbours():
    chunks = chunk_document(Document("a", ZH * 6), size=80, overlap=30, strategy="sentence")
    assert any(b.start < a.end for a, b in zip(chunks, chunks[1:]))
    ids = [c.id for c in chunk_documents([Document("a", ZH * 3), Document("b", ZH * 3)], 80, 20)]
    assert ids == list(range(len(ids)))


def test_bad_chunking_settings():
    for size, overlap in ((10, 0), (100, 100), (100, -1)):
        with pytest.raises(LabError) as info:
            chunk_document(Document("a", ZH), size=size, overlap=overlap)
        assert info.value.key == "rag.bad_chunking"
