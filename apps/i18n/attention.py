"""Strings of the Attention tab (apps/attention)."""

STRINGS = {
    "attention.tab": ("② 注意力", "② Attention"),
    "attention.intro": (
        "### 注意力：每个头在看哪里？\n"
        "选一个模型（解码器 SmolLM2、Gemma，或编码器 MiniLM），输入一段文字，点“分析”。"
        "你会看到 bertviz 的交互视图、单个头的热力图、所有头的统计，以及“这个 token 在看哪里”。"
        "最后一栏用模型自己的 Q/K 权重从零重算注意力，并和模型报告的结果逐个比较。",
        "### Attention: where does each head look?\n"
        "Pick a model (decoders SmolLM2, Gemma, or the encoder MiniLM), type a text and press Analyse. "
        "You get bertviz's interactive views, one head's heatmap, statistics of every head, and "
        "\"where does this token look\". The last section recomputes attention from scratch with the "
        "model's own Q/K weights and compares it with what the model reports.",
    ),
    "attention.model": ("模型", "Model"),
    "attention.model.info": ("内置模型离线可用；也可填本地文件夹或（联网时）Hub 模型 ID。",
                             "Built-in models work offline; a local folder or (online) a Hub id works too."),
    "attention.text": ("输入文字", "Text"),
    "attention.text.placeholder": ("例如：The cat sat on the mat because it was tired.",
                                   "e.g. The cat sat on the mat because it was tired."),
    "attention.run": ("分析", "Analyse"),
    "attention.layer": ("层", "Layer"),
    "attention.head": ("头", "Head"),
    "attention.sub_bertviz": ("bertviz 视图", "bertviz views"),
    "attention.sub_maps": ("热力图与统计", "Heatmap & head summary"),
    "attention.sub_look": ("这个 token 在看哪里？", "Where does this token look?"),
    "attention.sub_scratch": ("从零计算注意力", "Attention from scratch"),
    "attention.bertviz_view": ("视图", "View"),
    "attention.bertviz_view.info": ("头视图：一层中各个头的连线；模型视图：每层每个头的缩略图。",
                                    "Head view: one layer's heads as lines; model view: a thumbnail per layer and head."),
    "attention.bertviz_first": ("从第几层开始显示", "First layer shown"),
    "attention.bertviz_first.info": ("长文本时每页只放部分层，拖动翻页。", "Long texts show a page of layers; slide to page."),
    "attention.bertviz": ("bertviz", "bertviz"),
    "attention.heatmap": ("所选层和头的注意力热力图", "Attention of the chosen layer and head"),
    "attention.summary": ("所有层和头的统计", "Every head, every layer"),
    "attention.summary_help": (
        "**熵**（比特）：越低越集中在少数 token 上。**平均距离**：注意力加权的 |i−j|，越大看得越远。"
        "**首 token 占比**：落在第一个 token 上的注意力，即“注意力汇聚点”（attention sink）。"
        "**前一 token 占比**：高的头是“前一 token 头”。解码器统计时跳过只能看自己的第 0 个 token。",
        "**Entropy** (bits): lower = focused on few tokens. **Mean distance**: attention-weighted |i−j|, "
        "higher = looks further back. **First-token share**: attention landing on token 0, the "
        "\"attention sink\". **Previous-token share**: high in previous-token heads. For decoders token 0, "
        "which can only see itself, is left out.",
    ),
    "attention.tokens": ("点击一个 token", "Click a token"),
    "attention.look": ("它在每一层看向哪里（各头平均）", "Where it looks in each layer (mean of heads)"),
    "attention.scratch_help": (
        "用这一层的 W_Q、W_K 和进入注意力模块的隐藏状态 x，重算 softmax(q·kᵀ·scale + mask)："
        "含因果掩码、RoPE 旋转位置编码（Llama/Gemma）、分组查询（GQA）、Gemma 3 的 q/k 归一化与滑动窗口。",
        "Recomputes softmax(q·kᵀ·scale + mask) from this layer's W_Q, W_K and the hidden states x entering "
        "the attention block: causal mask, rotary position embedding (Llama/Gemma), grouped-query heads, "
        "Gemma 3's q/k norms and sliding window.",
    ),
    "attention.scratch_plot": ("模型报告 vs 从零计算", "Model vs from scratch"),
    "attention.agreement": ("所有层和头的最大误差", "Largest difference, every layer and head"),
    # results
    "attention.summary_line": (
        "**{model}**（{arch}，{kind}）：{tokens} 个 token，{layers} 层 × {heads} 个头"
        "（{kv_heads} 个 K/V 头，每头 {head_dim} 维），前向 {seconds:.2f} 秒。",
        "**{model}** ({arch}, {kind}): {tokens} {tokens:plural:token|tokens}, {layers} layers × {heads} heads "
        "({kv_heads} K/V heads, {head_dim} dims each), forward pass {seconds:.2f} s.",
    ),
    "attention.causal": ("因果（解码器）", "causal (decoder)"),
    "attention.bidirectional": ("双向（编码器）", "bidirectional (encoder)"),
    "attention.agree_line": (
        "从零计算与模型报告的注意力：所有 {n} 个头的最大绝对误差 {diff:.2e}（阈值 {tol:.0e}）{mark}",
        "From scratch vs the model's attention: largest absolute difference over all {n} heads {diff:.2e} "
        "(tolerance {tol:.0e}) {mark}",
    ),
    "attention.scratch_line": (
        "第 {layer} 层第 {head} 个头（共享第 {kv} 个 K 头）：最大绝对误差 **{diff:.2e}** {mark}",
        "Layer {layer}, head {head} (shares K head {kv}): largest absolute difference **{diff:.2e}** {mark}",
    ),
    "attention.look_header": ("| 层 | 最强的目标 |\n|---|---|", "| layer | strongest targets |\n|---|---|"),
    "attention.bertviz_paged": ("显示第 {first}–{last} 层（共 {n} 层）。", "Showing layers {first}–{last} of {n}."),
    # plot captions
    "attention.plot.heatmap": ("第 {layer} 层 · 第 {head} 个头", "Layer {layer} · head {head}"),
    "attention.plot.query": ("发出注意力的 token（查询）", "token looking (query)"),
    "attention.plot.key": ("被注意的 token（键）", "token looked at (key)"),
    "attention.plot.layer": ("层", "layer"),
    "attention.plot.head": ("头", "head"),
    "attention.plot.token": ("token", "token"),
    "attention.plot.look": ("“{token}”（位置 {index}）在每层看向哪里", "Where '{token}' (position {index}) looks"),
    "attention.plot.model": ("模型报告", "model"),
    "attention.plot.scratch": ("从零计算", "from scratch"),
    "attention.plot.agreement": ("从零计算 vs 模型：最大 |Δ|", "from scratch vs model: max |Δ|"),
    "attention.stat.entropy": ("熵（比特）", "entropy (bits)"),
    "attention.stat.distance": ("平均距离（token）", "mean distance (tokens)"),
    "attention.stat.first_token": ("首 token 占比", "first-token share"),
    "attention.stat.previous_token": ("前一 token 占比", "previous-token share"),
    # errors
    "attention.empty": ("文字是空的，请先输入内容。", "The text is empty: type something first."),
    "attention.too_long": (
        "这段文字有 {n} 个 token，超过上限 {max}。注意力图有 层×头×token² 个数，太长会让页面卡住，请缩短。",
        "The text has {n} tokens, more than the limit of {max}. Attention maps hold layers×heads×tokens² "
        "numbers, so a longer text would freeze the page: shorten it.",
    ),
    "attention.bertviz_too_long": (
        "bertviz 视图最多显示 {max} 个 token（现在 {n} 个）。热力图和统计仍然可用；想看 bertviz 请缩短文字。",
        "bertviz views show at most {max} tokens (this text has {n}). The heatmap and statistics still "
        "work; shorten the text to see bertviz.",
    ),
    "attention.needs_lm": ("需要以普通模型（非 sentence-transformers）加载。", "The model must be loaded as a plain model, not a sentence-transformers one."),
    "attention.no_weights": (
        "模型“{name}”没有返回注意力权重（需要 eager 注意力实现）。",
        "Model '{name}' returned no attention weights (it needs the eager attention implementation).",
    ),
    "attention.unsupported": (
        "暂不支持从零重算这种结构的注意力：{arch}。可视化仍然可用。",
        "Recomputing attention from scratch is not supported for this architecture yet: {arch}. The views still work.",
    ),
    "attention.bertviz_remote": (
        "bertviz 页面里仍有外部地址（{urls}），为保证离线可用已拒绝显示。",
        "The bertviz page still points to remote addresses ({urls}); refused so the lab stays offline.",
    ),
    "attention.missing_js": (
        "bertviz 所需的 JavaScript 文件缺失：请运行 make install（或 python -m apps.attention.assets fetch）。",
        "bertviz's JavaScript files are missing: run `make install` (or `python -m apps.attention.assets fetch`).",
    ),
    "attention.no_run": ("请先点“分析”。", "Press Analyse first."),
    "attention.bad_index": ("{what} 超出范围：{value}（可选 0–{max}）。", "{what} out of range: {value} (0–{max})."),
}
STRINGS.update({
    "attention.view.head": ("头视图", "head view"),
    "attention.view.model": ("模型视图", "model view"),
})
