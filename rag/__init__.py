"""RAG over FAISS: a retrieval library usable on its own (no Gradio), and `python -m rag`.

    loaders   files → Documents (txt/md with GBK/GB18030 detection, pdf, html, docx)
    chunking  Documents → Chunks (fixed or sentence-aware, zh+en punctuation, exact offsets)
    embed     sentence-transformers embeddings, batched, cached on disk by content hash
    vectors   FAISS flat / HNSW / IVF inner-product indexes
    lexical   BM25 over Chinese character uni+bigrams and English words
    glossary  zh/en synonyms of LLM vocabulary for query expansion
    hybrid    reciprocal-rank fusion and the rerank pass
    store     RagIndex: build, save/load a folder (atomic, embedder-checked), search
    answer    numbered-source prompt and streamed, cited answers (registry model or API provider)
    evaluate  hit@k / MRR over JSONL questions
    cli       build | query | eval | ask

Quick start:
    python -m rag build curriculum/lessons --index runs/rag-demo
    python -m rag query runs/rag-demo "多头注意力有什么用？" --json
"""
