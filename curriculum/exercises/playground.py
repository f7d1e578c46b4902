"""Stage 1 exercises (Playground): tokens, greedy decoding and the probability of a token."""
from curriculum.exercises import Exercise

SMOL = "smollm2-135m-instruct"
# Greedy decoding spelled out, so a changed default of GenerationConfig changes no answer.
GREEDY = {"do_sample": False, "num_beams": 1, "repetition_penalty": 1.0, "temperature": 1.0, "top_k": 0,
          "top_p": 1.0, "min_p": 0.0}

EXERCISES = [
    Exercise(
        id="playground.tokens_zh",
        stage="playground",
        title=("数一数 token", "Count the tokens"),
        prompt=(
            "SmolLM2 的分词器把 **「大模型很有趣」**（6 个汉字，不加特殊 token）切成多少个 token？",
            "How many tokens does SmolLM2's tokenizer make of **\"大模型很有趣\"** (6 Chinese characters, "
            "no special tokens)?",
        ),
        hint=(
            "在「体验模型」页选 smollm2-135m-instruct，发送这句话，看提示词的 token 切分；"
            "一个汉字在以英文为主的分词器里常常要占 2～3 个字节级 token：这样的 token 显示为它的字节（如 `<E5><A4>`），"
            "并框在它们拼成的汉字下面。数的是 token（小格子），不是汉字。",
            "In the Playground pick smollm2-135m-instruct, send the sentence and look at how the prompt is "
            "split; an English-centric tokenizer often needs 2–3 byte-level tokens per Chinese character. Such a "
            "token shows its bytes (e.g. `<E5><A4>`), boxed under the character they make: count the tokens (the "
            "small boxes), not the characters.",
        ),
        checker="token_count", params={"model": SMOL, "text": "大模型很有趣"}, kind="int", models=(SMOL,),
    ),
    Exercise(
        id="playground.first_token",
        stage="playground",
        title=("贪心解码的第一个 token", "The first greedy token"),
        prompt=(
            "用贪心解码（不采样），SmolLM2 对用户消息 **「Say hello in French.」** 回复的**第一个 token** "
            "是什么？（只填这个 token 的文字，注意它不一定是一个完整的单词）",
            "With greedy decoding (no sampling), what is the **first token** of SmolLM2's reply to the user "
            "message **\"Say hello in French.\"**? (Type just that token's text; it need not be a whole word.)",
        ),
        hint=(
            "在「体验模型」页关掉采样（或温度设为 0），最大新 token 设为几个即可，把鼠标停在回复的第一个 token 上。",
            "In the Playground turn sampling off (or temperature 0), a few new tokens are enough; hover over the "
            "first token of the reply.",
        ),
        checker="greedy_first_token", params={"model": SMOL, "prompt": "Say hello in French.", "decoding": GREEDY},
        kind="text",
        models=(SMOL,),
    ),
    Exercise(
        id="playground.first_prob",
        stage="playground",
        title=("它有多确定？", "How sure is it?"),
        prompt=(
            "接上题：SmolLM2 给这个第一个 token 的概率是多少？用**百分数**回答（例如 42.5），允许误差 ±1 个百分点。",
            "Following on: what probability does SmolLM2 give that first token? Answer in **percent** "
            "(e.g. 42.5), within ±1 percentage point.",
        ),
        hint=(
            "「体验模型」页会显示每个 token 的概率和候选 token（logprob 取 e 的指数即为概率）。",
            "The Playground shows each token's probability and its alternatives (probability = e^logprob).",
        ),
        checker="greedy_first_prob", params={"model": SMOL, "prompt": "Say hello in French.", "decoding": GREEDY},
        kind="number",
        tolerance=1.0, percent=True, models=(SMOL,),
    ),
    Exercise(
        id="playground.top_p_code",
        stage="playground",
        title=("写代码：top-p 过滤", "Code: top-p filtering"),
        prompt=(
            "写一个函数 `top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor`：输入形状为 (batch, vocab) 的 "
            "logits，返回同形状的 logits，其中**核（nucleus）之外**的 token 设为 `-inf`。核是按概率从高到低排、"
            "累计概率**刚好达到** p 的最小 token 集合。检查器用 SmolLM2 的真实 logits 调用它，并与引擎采样时用的 "
            "top-p 处理器逐个比较。",
            "Write `top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor`: given (batch, vocab) logits, "
            "return logits of the same shape with every token **outside the nucleus** set to `-inf`. The nucleus "
            "is the smallest set of most likely tokens whose probability **reaches** p. The checker calls it on "
            "SmolLM2's real logits and compares with the top-p processor the engine samples with.",
        ),
        hint=(
            "排序（descending）→ softmax → cumsum；某个 token 之前（不含它自己）的累计概率已经 ≥ p 时它就在核外。"
            "最可能的那个 token 永远保留。最后用 scatter 把排序后的决定放回原来的词表顺序。",
            "Sort (descending) → softmax → cumsum; a token is outside when the tokens before it (not counting "
            "itself) already reach p. The most likely token always stays. Use scatter to put the decision back "
            "in vocabulary order.",
        ),
        checker="top_p_code", kind="code", code="top_p", models=(SMOL,),
        params={"model": SMOL, "prompts": ["The capital of France is", "大模型的全称是"], "ps": [0.5, 0.9]},
    ),
]
