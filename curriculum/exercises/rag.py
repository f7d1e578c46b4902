"""Stage 3 exercises (RAG): retrieval quality of the demo index, and where dense retrieval fails."""
from curriculum.exercises import Exercise

EMBED = "all-minilm-l6-v2"
# Every setting the answers depend on, written out (not the RAG tab's live defaults, which may be
# tuned): the index the student builds, and the hidden knobs of lexical and hybrid search.
INDEX = {"chunk_size": 300, "overlap": 60, "strategy": "sentence", "index_type": "flat", "embedder": EMBED,
         "bm25_k1": 1.2, "bm25_b": 0.75}
SEARCH = {"rrf_k": 10, "pool": 50, "cjk_dense_weight": 0.1, "expand_weight": 0.5, "unigram_weight": 1.0,
          "latin_weight": 3.0, "glossary": "glossary-exercises.txt"}  # a file in curriculum/data/rag
SETTINGS = {"index": INDEX, "search": SEARCH}

EXERCISES = [
    Exercise(
        id="rag.hit5_hybrid",
        stage="rag",
        title=("混合检索的 hit@5", "hit@5 of hybrid search"),
        prompt=(
            "在「检索增强」页选演示语料（课程讲义），讲义语言选**中英文**，块大小 300、重叠 60、按句切块、flat 索引、"
            "向量模型 all-minilm-l6-v2，建索引后运行「评估检索」（k = 5）。"
            "**hybrid** 模式的 hit@5 是多少？填 0～1 之间的小数，允许误差 ±0.01。",
            "In the RAG tab, build an index over the demo corpus (the lessons) with lesson language **Both**, chunk "
            "size 300, overlap 60, sentence chunks, a flat index and the all-minilm-l6-v2 embedder, then run "
            "\"Evaluate retrieval\" (k = 5). What is hit@5 in **hybrid** mode? A decimal between 0 "
            "and 1, within ±0.01.",
        ),
        hint=(
            "hit@5 = 前 5 个检索结果里至少有一块包含标准答案的问题所占比例。评测在「评估检索」折叠面板里。",
            "hit@5 = the share of questions with at least one chunk holding the expected answer among the top 5. "
            "The evaluation is in the \"Evaluate retrieval\" accordion.",
        ),
        checker="rag_eval", params={"langs": ["zh", "en"], "k": 5, "mode": "hybrid", **SETTINGS}, kind="number",
        tolerance=0.01, models=(EMBED,),
    ),
    Exercise(
        id="rag.dense_zh",
        stage="rag",
        title=("英文向量模型遇上中文", "An English embedder meets Chinese"),
        prompt=(
            "讲义语言只选**中文**建索引（其余设置同上题），运行「评估检索」（k = 5）。**dense**（纯向量）模式的 hit@5 是多少？"
            "允许误差 ±0.02。和 hybrid 比一比，想想为什么。",
            "Build the index with lesson language **中文** (Chinese) only, other settings as in the previous exercise, and run "
            "\"Evaluate retrieval\" (k = 5). What is hit@5 in **dense** mode? Within ±0.02. Compare it with hybrid and think about why.",
        ),
        hint=(
            "默认的向量模型 all-MiniLM-L6-v2 只在英文上训练过；第 3 课「稠密检索与词法检索」一节讲了原因。",
            "The default embedder, all-MiniLM-L6-v2, was trained on English only; lesson 3, \"Dense and lexical "
            "retrieval\", explains what follows.",
        ),
        checker="rag_eval", params={"langs": ["zh"], "k": 5, "mode": "dense", **SETTINGS}, kind="number", tolerance=0.02,
        models=(EMBED,),
    ),
    Exercise(
        id="rag.dense_top",
        stage="rag",
        title=("向量检索找错了地方", "Dense search looks in the wrong place"),
        prompt=(
            "在中英文演示索引上用 **dense** 模式检索 **「困惑度」**。排第 1 的块来自哪一课？填课的阶段名"
            "（playground、attention、rag、api、finetune、evaluation）或文件名。",
            "On the bilingual demo index, search **\"困惑度\"** (perplexity) in **dense** mode. Which lesson does "
            "the top chunk come from? Type the stage name (playground, attention, rag, api, finetune, "
            "evaluation) or the file name.",
        ),
        hint=(
            "把检索模式切到 dense，看第一个结果的来源文件；再切到 lexical 或 hybrid 对比一下。",
            "Switch the retrieval mode to dense and read the source file of the first hit; then compare with "
            "lexical or hybrid.",
        ),
        checker="rag_top_source", params={"langs": ["zh", "en"], "query": "困惑度", "mode": "dense",
                                           **SETTINGS}, kind="text",
        models=(EMBED,),
    ),
    Exercise(
        id="rag.chunker_code",
        stage="rag",
        title=("写代码：按句子切块", "Code: a sentence chunker"),
        prompt=(
            "写 `chunk_sentences(text: str, size: int) -> list[str]`：按句号、问号、换行等把文本切成句子，"
            "再把整句贪心地装进不超过 size 个字符的块里（不重叠），去掉每块首尾的空白。起始代码给出了"
            "「检索增强」页所用的断句规则。检查器用第 3 课的中英文课文和两种块大小，与 RAG 的切块器逐块比较。",
            "Write `chunk_sentences(text: str, size: int) -> list[str]`: split the text into sentences at full "
            "stops, question marks, newlines…, then pack whole sentences greedily into chunks of at most size "
            "characters (no overlap), whitespace stripped. The starter code gives the RAG tab's sentence rule. "
            "The checker compares chunk by chunk with the RAG chunker on lesson 3 (zh and en), two sizes.",
        ),
        hint=(
            "一个块从第一句的开头算到最后一句的结尾（中间的空白也算长度）；下一句装不下就开新块。"
            "「检索增强」页构建索引后可以看到每个块的文字。",
            "A chunk runs from its first sentence's start to its last sentence's end (whitespace in between "
            "counts); when the next sentence does not fit, start a new chunk. The RAG tab shows every chunk of "
            "an index it built.",
        ),
        checker="chunker_code", kind="code", code="chunker", params={"stage": "rag", "sizes": [120, 240]},
    ),
]
