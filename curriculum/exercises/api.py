"""Stage 4 exercises (tasks through an API): ROUGE, macro-F1 and what a chat request really costs."""
from curriculum.exercises import Exercise

SMOL = "smollm2-135m-instruct"
GOLD = ["sports", "tech", "tech", "business", "sports", "business"]
PRED = ["sports", "tech", "business", "business", "tech", "business"]

EXERCISES = [
    Exercise(
        id="api.rouge1",
        stage="api",
        title=("字级 ROUGE-1", "Character-level ROUGE-1"),
        prompt=(
            "候选摘要 **「北京今天天气晴朗」**，参考摘要 **「今天北京是晴天」**。按字计算（每个汉字是一个单位），"
            "ROUGE-1 的 F1 是多少？保留三位小数，允许误差 ±0.005。",
            "Candidate summary **\"北京今天天气晴朗\"**, reference **\"今天北京是晴天\"**. Counting characters (each "
            "Chinese character is one unit), what is the ROUGE-1 F1? Three decimals, within ±0.005.",
        ),
        hint=(
            "先数两句各有几个字、重叠的字有几个（重复的字按较小次数计），P = 重叠/候选字数，R = 重叠/参考字数，F = 2PR/(P+R)。",
            "Count the characters of each and the overlap (a repeated character counts at most as often as in "
            "the other): P = overlap/candidate, R = overlap/reference, F = 2PR/(P+R).",
        ),
        checker="rouge", params={"candidate": "北京今天天气晴朗", "reference": "今天北京是晴天", "metric": "rouge1"},
        kind="number", tolerance=0.005,
    ),
    Exercise(
        id="api.macro_f1",
        stage="api",
        title=("宏平均 F1", "Macro-F1"),
        prompt=(
            "分类任务的标准标签和模型预测如下：\n\n"
            f"- 标准：`{', '.join(GOLD)}`\n- 预测：`{', '.join(PRED)}`\n\n"
            "宏平均 F1（三个类别的 F1 取算术平均）是多少？允许误差 ±0.005。",
            "Gold labels and a model's predictions for a classification task:\n\n"
            f"- gold: `{', '.join(GOLD)}`\n- predicted: `{', '.join(PRED)}`\n\n"
            "What is the macro-F1 (the plain mean of the three classes' F1)? Within ±0.005.",
        ),
        hint=(
            "每个类别分别算精确率和召回率，再算 F1，最后三者平均；「API 任务」页的分类结果会显示各类别的数字。",
            "Compute precision and recall per class, then F1, then average the three; the Tasks tab's "
            "classification report shows the per-class numbers.",
        ),
        checker="macro_f1", params={"gold": GOLD, "pred": PRED}, kind="number", tolerance=0.005,
    ),
    Exercise(
        id="api.prompt_tokens",
        stage="api",
        title=("一句 Hello 花多少 token", "What one Hello costs"),
        prompt=(
            "通过实验室的 OpenAI 兼容接口 `/v1/chat/completions`，给 `smollm2-135m-instruct` 发送一条用户消息 "
            "**「Hello!」**（没有系统消息）。返回的 `usage.prompt_tokens` 是多少？",
            "Through the lab's OpenAI-compatible `/v1/chat/completions`, send `smollm2-135m-instruct` one user "
            "message **\"Hello!\"** (no system message). What is `usage.prompt_tokens` in the response?",
        ),
        hint=(
            "计费按模型真正看到的文本：聊天模板会加上角色标记，有的模板还会自动加一条默认系统提示。"
            "可以用 `curl` 或 openai 客户端调用，也可以在「API 任务」页选 lab 提供方。",
            "You pay for what the model really sees: the chat template adds role markers, and some templates "
            "add a default system prompt. Call it with `curl` or the openai client, or pick the lab provider in "
            "the Tasks tab.",
        ),
        checker="usage_prompt_tokens", params={"model": SMOL, "messages": [{"role": "user", "content": "Hello!"}]},
        kind="int", models=(SMOL,),
    ),
]
