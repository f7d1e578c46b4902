"""Stage 7 exercises (data and pretraining): the size of a model from its shape, and one BPE merge."""
from curriculum.exercises import Exercise

EXERCISES = [
    Exercise(
        id="pretrain.tiny_params",
        stage="pretrain",
        title=("小模型有多少参数", "How big is the tiny model?"),
        prompt=(
            "「预训练」页的 **tiny** 预设（4 层，d_model 128，4 个头、2 个 KV 头，d_ff 384，词嵌入与输出层共享）"
            "配上 **2000** 个词的分词器，一共有多少个参数？填精确整数。",
            "The Pretrain tab's **tiny** preset (4 layers, d_model 128, 4 heads and 2 KV heads, d_ff 384, "
            "embedding tied to the output head) with a **2000**-token vocabulary: exactly how many parameters?",
        ),
        hint=(
            "每层：q、o 投影各 d×d，k、v 各 d×(KV头数×头维度)，MLP 三个 d×d_ff，再加两个 RMSNorm 权重；"
            "另有词嵌入 vocab×d 和最后一个 RMSNorm。「预训练」页的估算会显示参数量。",
            "Per layer: q and o are d×d, k and v d×(KV heads × head dim), the MLP three d×d_ff, plus two "
            "RMSNorm weights; then the embedding vocab×d and a final RMSNorm. The Pretrain tab's estimate shows it.",
        ),
        checker="pretrain_params", params={"preset": "tiny", "vocab_size": 2000}, kind="int",
    ),
    Exercise(
        id="pretrain.bpe_merge_code",
        stage="pretrain",
        title=("写代码：BPE 合并一步", "Code: one BPE merge step"),
        prompt=(
            "写 `bpe_merge_step(words) -> (pair, new_words)`：words 是一列词，每个词是一列符号，例如 "
            "`[['l','o','w'], ['l','o','w','e','r']]`。找出所有词里出现次数最多的相邻符号对，把它的每一次出现"
            "（从左到右）合并成一个符号。检查器与 `tokenizers` 库的 BPE 训练器（「预训练」页用的那个）学到的"
            "第一次合并比较。",
            "Write `bpe_merge_step(words) -> (pair, new_words)`: words is a list of words, each a list of "
            "symbols, e.g. `[['l','o','w'], ['l','o','w','e','r']]`. Find the most frequent pair of adjacent "
            "symbols over all words and merge each occurrence of it, left to right. The checker compares with the "
            "first merge the `tokenizers` library's BPE trainer learns (the one the Pretrain tab uses).",
        ),
        hint=(
            "`collections.Counter` 加上 `zip(word, word[1:])` 就能数相邻对；合并时遇到这一对就拼起来并跳过两个符号。",
            "`collections.Counter` with `zip(word, word[1:])` counts adjacent pairs; when merging, join the pair "
            "and skip both symbols.",
        ),
        checker="bpe_merge_code", kind="code", code="bpe_merge",
        params={"corpora": ["lower newer wider older low new", "大模型 大模型很有趣 模型 小模型 训练模型"]},
    ),
]
