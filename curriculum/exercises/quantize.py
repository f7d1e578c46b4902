"""Stage 8 exercises (quantisation): the error absmax int8 makes, and absmax int8 written by hand."""
from curriculum.exercises import Exercise

SMOL = "smollm2-135m-instruct"
DOWN0 = "model.layers.0.mlp.down_proj.weight"

EXERCISES = [
    Exercise(
        id="quantize.absmax_max_err",
        stage="quantize",
        title=("int8 的最大误差", "The largest int8 error"),
        prompt=(
            f"把 SmolLM2 的 `{DOWN0}` 整个矩阵用**一个** absmax int8 缩放因子量化再反量化，单个权重的最大绝对误差是多少？"
            "用 **×10⁻³** 为单位回答（例如 0.51 表示 0.00051），允许 ±5% 的相对误差。",
            f"Quantise SmolLM2's `{DOWN0}` with absmax int8 and **one** scale for the whole matrix, then "
            "dequantise. What is the largest absolute error of a single weight? Answer in units of **10⁻³** "
            "(e.g. 0.51 means 0.00051), within ±5% (relative).",
        ),
        hint=(
            "缩放因子 = max|w| / 127，每个权重最多被挪动半个缩放因子。「量化」页的「手动量化」会显示 max_err。",
            "scale = max|w| / 127, and no weight moves by more than half a scale. The Quantize tab's by-hand "
            "section shows max_err.",
        ),
        checker="absmax_error", params={"model": SMOL, "weight": DOWN0, "unit": 1e-3}, kind="number",
        rel_tolerance=0.05, models=(SMOL,),
    ),
    Exercise(
        id="quantize.absmax_code",
        stage="quantize",
        title=("写代码：absmax int8 量化与反量化", "Code: absmax int8, there and back"),
        prompt=(
            "写 `absmax_int8(w) -> (q, w_hat)`：w 是 (out, in) 的浮点权重，**每一行**一个缩放因子 "
            "scale = max|行| / 127，q = round(w / scale) 落在 [-127, 127]，w_hat = q·scale。检查器用 SmolLM2 真实"
            "权重的切片，与「量化」页的手动量化模块比较。",
            "Write `absmax_int8(w) -> (q, w_hat)`: w is (out, in) float weights, one scale **per row**, "
            "scale = max|row| / 127, q = round(w / scale) in [-127, 127], w_hat = q·scale. The checker uses slices "
            "of SmolLM2's real weights and compares with the Quantize tab's by-hand module.",
        ),
        hint=(
            "`w.abs().amax(dim=1, keepdim=True)` 给出每行的最大值，形状 (out, 1)，可以直接和 w 广播。",
            "`w.abs().amax(dim=1, keepdim=True)` gives each row's maximum as (out, 1), which broadcasts against w.",
        ),
        checker="absmax_code", kind="code", code="absmax", models=(SMOL,),
        params={"model": SMOL, "weights": ["model.layers.0.self_attn.q_proj.weight", DOWN0], "rows": 32, "cols": 64},
    ),
]
