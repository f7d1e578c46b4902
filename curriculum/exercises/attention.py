"""Stage 2 exercises (Attention): attention-sink and previous-token heads, and GQA."""
from curriculum.exercises import Exercise

SMOL = "smollm2-135m-instruct"
SENTENCE = "The cat sat on the mat because it was tired."

EXERCISES = [
    Exercise(
        id="attention.sink_head",
        stage="attention",
        title=("找注意力汇聚头", "Find the attention sink"),
        prompt=(
            f"对句子 **「{SENTENCE}」**，SmolLM2 第 **12** 层（层和头都从 0 数起）哪一个头把最多注意力放在"
            "**第一个 token** 上（对所有查询 token 取平均，不算第一个 token 自己）？填头的编号。",
            f"For the sentence **\"{SENTENCE}\"**, which head of layer **12** of SmolLM2 (layers and heads "
            "counted from 0) puts the most attention on the **first token** (averaged over query tokens, not "
            "counting the first token itself)? Type the head number.",
        ),
        hint=(
            "在「注意力」页选 smollm2-135m-instruct，输入这句话，看「所有层和头的统计」里的 first-token 份额。",
            "In the Attention tab pick smollm2-135m-instruct, enter the sentence and read the first-token share "
            "in \"Every head, every layer\".",
        ),
        checker="attention_head", params={"model": SMOL, "text": SENTENCE, "layer": 12, "stat": "first_token"},
        kind="int", models=(SMOL,),
    ),
    Exercise(
        id="attention.previous_head",
        stage="attention",
        title=("找“前一个 token”头", "Find the previous-token head"),
        prompt=(
            "同一句话，SmolLM2 第 **16** 层哪一个头最像“前一个 token 头”（平均而言最多地看向紧挨着的前一个 token）？",
            "Same sentence: which head of layer **16** of SmolLM2 is the strongest previous-token head "
            "(on average puts the most attention on the token just before)?",
        ),
        hint=(
            "统计图里的 previous-token 份额；也可以点第 16 层各个头的热力图，找紧贴对角线下方的一条斜线。",
            "Use the previous-token share in the summary plots, or open layer 16's heatmaps and look for a line "
            "just below the diagonal.",
        ),
        checker="attention_head", params={"model": SMOL, "text": SENTENCE, "layer": 16, "stat": "previous_token"},
        kind="int", models=(SMOL,),
    ),
    Exercise(
        id="attention.kv_heads",
        stage="attention",
        title=("GQA：共享的键值头", "GQA: shared key/value heads"),
        prompt=(
            "SmolLM2-135M 每一层有多少个**键/值（KV）头**，供它的所有查询头共享（分组查询注意力 GQA）？",
            "How many **key/value (KV) heads** does each layer of SmolLM2-135M have, shared by all its query "
            "heads (grouped-query attention)?",
        ),
        hint=(
            "见第 2 课「GQA」一节；「注意力」页的模型概要会列出头数和 KV 头数，或者看模型 config 的 num_key_value_heads。",
            "See lesson 2, \"GQA\"; the Attention tab's model summary lists heads and KV heads, as does "
            "num_key_value_heads in the model's config.",
        ),
        checker="config_value", params={"model": SMOL, "field": "num_key_value_heads"}, kind="int", models=(SMOL,),
    ),
    Exercise(
        id="attention.head_code",
        stage="attention",
        title=("写代码：一个因果注意力头", "Code: one causal attention head"),
        prompt=(
            "写 `causal_attention(q, k, v) -> torch.Tensor`：q、k、v 都是形状 (T, hd) 的张量（某一个头的，"
            "q 和 k 已经加过 RoPE），返回 (T, hd)：softmax(q·kᵀ/√hd，且第 i 个 token 看不到 j > i 的 token)·v。"
            "检查器从 SmolLM2 第 3 层取真实的 q、k、v，并与这个头自己算出的输出（送进 o_proj 之前的那一段）比较，"
            "允许误差 1e-4。",
            "Write `causal_attention(q, k, v) -> torch.Tensor`: q, k, v are (T, hd) tensors of one head (RoPE "
            "already applied to q and k); return (T, hd): softmax(q·kᵀ/√hd, token i unable to see tokens j > i)·v. "
            "The checker takes real q, k, v from layer 3 of SmolLM2 and compares with that head's own output "
            "(its slice of what goes into o_proj), to 1e-4.",
        ),
        hint=(
            "分数矩阵是 (T, T)；用 `torch.triu(..., diagonal=1)` 造出“未来”位置的掩码，填 -inf 后再按行 softmax。"
            "「注意力」页的从零实现（from_scratch）就是这样算的。",
            "The score matrix is (T, T); build the mask of future positions with `torch.triu(..., diagonal=1)`, "
            "fill them with -inf, then softmax each row. The Attention tab's from-scratch code does the same.",
        ),
        checker="attention_head_code", kind="code", code="attention_head", models=(SMOL,),
        params={"model": SMOL, "texts": [SENTENCE], "layer": 3, "heads": [0, 5]},
    ),
]
