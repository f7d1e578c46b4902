"""Stage 6 exercises (evaluation): Bradley-Terry and Elo from a few votes, perplexity on held-out text."""
from curriculum.exercises import Exercise

SMOL = "smollm2-135m-instruct"
# (model_a, model_b, winner): C wins most votes (3), yet A beats C head to head and never loses to B.
VOTES = [("A", "B", "model_a"), ("A", "C", "model_a"), ("B", "C", "model_a"),
         ("C", "A", "model_a"), ("C", "B", "model_a"), ("C", "B", "model_a")]


def _table(votes) -> str:
    rows = "\n".join(f"| {i} | {a} | {b} | {w} |" for i, (a, b, w) in enumerate(votes, 1))
    return "| # | model_a | model_b | winner |\n|---|---|---|---|\n" + rows


EXERCISES = [
    Exercise(
        id="evaluation.bt_top",
        stage="evaluation",
        title=("谁的 Bradley-Terry 分最高", "Who tops Bradley-Terry?"),
        prompt=(
            "竞技场收到这 6 票：\n\n" + _table(VOTES) + "\n\n按 Bradley–Terry 模型拟合，哪个模型评分最高？（赢的票数最多的不一定最高）",
            "The arena got these 6 votes:\n\n" + _table(VOTES) + "\n\nFitting a Bradley–Terry model, which model "
            "gets the highest rating? (The one with the most wins need not be.)",
        ),
        hint=(
            "想想：谁赢了谁、输给了谁？可以把这几票写成 Chatbot Arena 格式的 JSONL（每行 model_a、model_b、winner），"
            "运行 `llmlab arena ratings --votes 文件`（不会写进全班的投票库）。",
            "Think: who beat whom, and who lost to whom? You can write the votes as Chatbot Arena JSONL (one "
            "model_a, model_b, winner per line) and run `llmlab arena ratings --votes FILE` (it leaves the class's "
            "vote database alone).",
        ),
        checker="bt_top", params={"votes": VOTES, "l2": 1e-6}, kind="text",
    ),
    Exercise(
        id="evaluation.elo",
        stage="evaluation",
        title=("按顺序算 Elo", "Elo, vote by vote"),
        prompt=(
            "还是这 6 票，按表中顺序做在线 Elo：初始分都是 1000，**K = 32**，尺度 400、底数 10，平局算各半。"
            "最后 **C** 的 Elo 是多少？允许误差 ±0.5。",
            "Same 6 votes, online Elo in the table's order: everyone starts at 1000, **K = 32**, scale 400, base "
            "10, a tie counts half. What is **C**'s final Elo? Within ±0.5.",
        ),
        hint=(
            "每一票：E_a = 1 / (1 + 10^((R_b − R_a)/400))，R_a += K·(S_a − E_a)，R_b −= K·(S_a − E_a)。"
            "用 `llmlab arena ratings --votes 文件 --method elo --k 32` 可以核对。",
            "Per vote: E_a = 1 / (1 + 10^((R_b − R_a)/400)), R_a += K·(S_a − E_a), R_b −= K·(S_a − E_a). "
            "Check with `llmlab arena ratings --votes FILE --method elo --k 32`.",
        ),
        checker="elo_rating", params={"votes": VOTES, "k": 32.0, "init": 1000.0, "model": "C"}, kind="number", tolerance=0.5,
    ),
    Exercise(
        id="evaluation.perplexity",
        stage="evaluation",
        title=("留出文本上的困惑度", "Perplexity on held-out text"),
        prompt=(
            "在「评测竞技场」的自动评测里，SmolLM2（smollm2-135m-instruct）在**英文**留出文本上的困惑度是多少？"
            "允许 ±1% 的相对误差。",
            "In the Arena's automatic evals, what is SmolLM2's (smollm2-135m-instruct) perplexity on the "
            "**English** held-out text? Within ±1 % (relative).",
        ),
        hint=(
            "困惑度 = exp(平均每个 token 的交叉熵损失)。也可以运行 `llmlab arena perplexity --model "
            "smollm2-135m-instruct --lang en`。",
            "Perplexity = exp(mean cross-entropy per token). You can also run `llmlab arena perplexity --model "
            "smollm2-135m-instruct --lang en`.",
        ),
        checker="perplexity", params={"model": SMOL, "lang": "en", "window": 512}, kind="number", rel_tolerance=0.01,
        models=(SMOL,),
    ),
    Exercise(
        id="evaluation.elo_code",
        stage="evaluation",
        title=("写代码：一次 Elo 更新", "Code: one Elo update"),
        prompt=(
            "写 `elo_update(r_a, r_b, score_a, k) -> (new_r_a, new_r_b)`：score_a 为 1（A 胜）、0（B 胜）或 0.5（平局），"
            "底数 10、尺度 400。检查器把竞技场的一串投票一条条喂给它，与竞技场自己的 Elo 在每一票之后的分数比较。",
            "Write `elo_update(r_a, r_b, score_a, k) -> (new_r_a, new_r_b)`: score_a is 1 (A won), 0 (B won) or "
            "0.5 (tie), base 10 and scale 400. The checker feeds it an arena's votes one by one and compares with "
            "the ratings the arena's own Elo holds after each vote.",
        ),
        hint=(
            "先算 A 的期望得分 E = 1 / (1 + 10^((r_b − r_a)/400))，A 变化 k·(score_a − E)，B 变化相反。",
            "First A's expected score E = 1 / (1 + 10^((r_b − r_a)/400)); A moves by k·(score_a − E), B by the "
            "opposite.",
        ),
        checker="elo_code", kind="code", code="elo",
        params={"strengths": {"alpha": 1100.0, "beta": 1000.0, "gamma": 950.0}, "n": 12, "k": 32.0},
    ),
]
