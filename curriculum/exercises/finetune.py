"""Stage 5 exercises (fine-tuning): LoRA's parameter budget and which tokens SFT trains on."""
from curriculum.exercises import Exercise

SMOL = "smollm2-135m-instruct"
CHAT = [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "2+2 equals 4."}]

EXERCISES = [
    Exercise(
        id="finetune.lora_share",
        stage="finetune",
        title=("LoRA 训练多少参数", "How much does LoRA train?"),
        prompt=(
            "给 SmolLM2-135M 加 LoRA，秩 **r = 8**，目标模块 **q_proj, v_proj**。可训练参数占基座参数的百分之几？"
            "用百分数回答（例如 1.23），允许误差 ±0.01 个百分点。",
            "Add LoRA to SmolLM2-135M with rank **r = 8** on **q_proj, v_proj**. What share of the base model's "
            "parameters is trainable? Answer in percent (e.g. 1.23), within ±0.01 percentage points.",
        ),
        hint=(
            "每个被改的线性层 W（in × out）加上 A（r × in）和 B（out × r），即 r·(in + out) 个参数；"
            "「微调」页的显存估算会显示可训练参数和百分比。",
            "Each adapted linear layer W (in × out) gains A (r × in) and B (out × r): r·(in + out) parameters. "
            "The Fine-tune tab's memory estimate shows the trainable count and share.",
        ),
        checker="lora_share", params={"model": SMOL, "r": 8, "targets": "q_proj,v_proj"}, kind="number",
        tolerance=0.01, percent=True, models=(SMOL,),
    ),
    Exercise(
        id="finetune.lora_params",
        stage="finetune",
        title=("all-linear 的 LoRA 参数", "LoRA on all linear layers"),
        prompt=(
            "同一个模型，LoRA 秩 **r = 16**，目标模块 **all-linear**（所有线性层，不含 lm_head）。一共有多少个可训练参数？"
            "填精确整数。",
            "Same model, LoRA rank **r = 16** on **all-linear** (every linear layer except lm_head). Exactly how "
            "many trainable parameters are there?",
        ),
        hint=(
            "每层有 q、k、v、o 四个注意力投影和 gate、up、down 三个 MLP 投影；注意 GQA 让 k、v 的输出维度更小。",
            "Each layer has four attention projections (q, k, v, o) and three MLP ones (gate, up, down); GQA makes "
            "k and v narrower.",
        ),
        checker="lora_params", params={"model": SMOL, "r": 16, "targets": "all-linear"}, kind="int",
        models=(SMOL,),
    ),
    Exercise(
        id="finetune.trained_tokens",
        stage="finetune",
        title=("SFT 在哪些 token 上算损失", "Which tokens SFT learns from"),
        prompt=(
            "用 SmolLM2 的聊天模板做 SFT，训练样本是：用户 **「What is 2+2?」**，助手 **「2+2 equals 4.」**。"
            "只在助手回复上算损失（包括表示结束的 token），有多少个 token 的标签**不是** -100？",
            "SFT with SmolLM2's chat template on one example: user **\"What is 2+2?\"**, assistant **\"2+2 equals "
            "4.\"**. With the loss on the assistant's reply only (its end-of-turn token included), how many tokens "
            "have a label that is **not** -100?",
        ),
        hint=(
            "「微调」页的数据预览会给被训练的 token 上色；系统提示、用户消息和角色标记都被遮住（-100）。",
            "The Fine-tune tab's data preview colours the trained tokens; the system prompt, the user message and "
            "the role markers are masked (-100).",
        ),
        checker="sft_trained_tokens", params={"model": SMOL, "messages": CHAT, "max_length": 4096}, kind="int", models=(SMOL,),
    ),
    Exercise(
        id="finetune.lora_code",
        stage="finetune",
        title=("写代码：LoRA 的前向计算", "Code: the LoRA forward pass"),
        prompt=(
            "写 `lora_forward(x, W, A, B, alpha, r) -> torch.Tensor`：x 是 (N, d_in)，冻结的权重 W 是 (d_out, d_in)，"
            "A 是 (r, d_in)，B 是 (d_out, r)。返回一个加了 LoRA、没有偏置的 nn.Linear 的输出，即用 W + (α/r)·B·A 计算。"
            "检查器与 peft 的 LoRA 层的真实输出比较。",
            "Write `lora_forward(x, W, A, B, alpha, r) -> torch.Tensor`: x is (N, d_in), the frozen weight W is "
            "(d_out, d_in), A is (r, d_in), B is (d_out, r). Return what a LoRA-wrapped nn.Linear without bias "
            "outputs, i.e. with W + (α/r)·B·A. The checker compares with peft's own LoRA layer.",
        ),
        hint=(
            "nn.Linear 算的是 x·Wᵀ。不必真的算出 B·A 这个大矩阵：先 x·Aᵀ（N×r），再乘 Bᵀ，便宜得多。",
            "nn.Linear computes x·Wᵀ. No need to build the big matrix B·A: x·Aᵀ (N×r) then ·Bᵀ is far cheaper.",
        ),
        checker="lora_code", kind="code", code="lora",
        params={"shapes": [[16, 12, 5], [64, 32, 3]], "r": 4, "alpha": 8.0},
    ),
]
