"""Stage 9 exercises (alignment): where DPO starts, and the DPO loss of one pair written by hand."""
from curriculum.exercises import Exercise

EXERCISES = [
    Exercise(
        id="alignment.dpo_start",
        stage="alignment",
        title=("DPO 的起点", "Where DPO starts"),
        prompt=(
            "DPO 训练的第 0 步，策略模型就是参考模型（β = 0.1）。这时每一对偏好数据的 DPO 损失是多少？"
            "保留三位小数，允许误差 ±0.001。",
            "At step 0 of DPO the policy is the reference model (β = 0.1). What is the DPO loss of every "
            "preference pair then? Three decimals, within ±0.001.",
        ),
        hint=(
            "策略和参考一样时，两个对数比都是 0，损失是 −log σ(0)。「微调」页训练 DPO 时，第一步的损失就在这附近。",
            "With policy = reference both log-ratios are 0, so the loss is −log σ(0). A DPO run in the Fine-tune "
            "tab starts near this value.",
        ),
        checker="dpo_start_loss", params={"beta": 0.1}, kind="number", tolerance=0.001,
    ),
    Exercise(
        id="alignment.dpo_code",
        stage="alignment",
        title=("写代码：一对数据的 DPO 损失", "Code: the DPO loss of one pair"),
        prompt=(
            "写 `dpo_loss(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta) -> float`：参数是被选中和被拒绝"
            "的回复在策略模型（pi_）和参考模型（ref_）下的序列对数概率。返回 "
            "−log σ(β·[(pi_chosen − ref_chosen) − (pi_rejected − ref_rejected)])，即 trl 默认的 sigmoid 损失。",
            "Write `dpo_loss(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta) -> float`: the arguments are "
            "the sequence log-probabilities of the chosen and rejected replies under the policy (pi_) and the "
            "reference (ref_). Return −log σ(β·[(pi_chosen − ref_chosen) − (pi_rejected − ref_rejected)]), trl's "
            "default sigmoid loss.",
        ),
        hint=(
            "−log σ(m) = log(1 + e^(−m))；m 很大或很小时用 `math.log1p` 和 `max` 写得更稳，或者直接用 "
            "`torch.nn.functional.logsigmoid`。",
            "−log σ(m) = log(1 + e^(−m)); `math.log1p` with `max` keeps it stable for large |m|, or use "
            "`torch.nn.functional.logsigmoid`.",
        ),
        checker="dpo_code", kind="code", code="dpo",
        params={"pairs": [[-12.0, -15.0, -12.5, -14.0], [-30.2, -28.7, -31.0, -29.9], [-5.0, -9.0, -5.0, -9.0],
                          [-40.0, -90.0, -60.0, -50.0]], "betas": [0.1, 0.5]},
    ),
]
