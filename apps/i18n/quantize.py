"""Strings of the Quantisation & inference tab (quantize): by hand, whole models, GGUF, inference tricks."""
STRINGS = {
    "quantize.tab": ("⑥ 量化与推理", "⑥ Quantisation & inference"),
    "quantize.intro": (
        "## 让模型变小、变快，并量出代价\n"
        "先亲手量化一个权重矩阵，看误差从哪里来；再把整个模型量化成 int8 / int4，在这台机器上实测"
        "大小、生成速度和困惑度；然后看看 GGUF 文件里到底存了什么；最后逐个测一测推理加速技巧。",
        "## Make a model smaller and faster, and measure what it costs\n"
        "Quantise one weight matrix by hand and see where the error comes from; then quantise a whole "
        "model to int8 / int4 and measure size, decode speed and perplexity on this machine; look inside "
        "the GGUF files; and finally measure the inference tricks one at a time.",
    ),
    "quantize.model": ("模型", "Model"),
    "quantize.model.info": ("实验室自带的生成模型", "One of the lab's generative models"),
    "quantize.status": ("状态", "Status"),
    # by hand
    "quantize.byhand": ("① 亲手量化一个权重矩阵", "① Quantise one weight matrix by hand"),
    "quantize.byhand_md": (
        "**absmax（对称）**：scale = max|w| / 127（int4 用 7），q = round(w / scale)。"
        "**zero-point（非对称）**：scale = (max − min) / 255（int4 用 15），z = round(−min / scale)，"
        "q = round(w / scale) + z。两种方法每个元素的误差都不超过 scale / 2。"
        "scale 越大误差越大：按整个张量（tensor）、按输出通道（channel）还是按 32 个一组（group）共享 scale，差别就在这里。"
        "一个离群值（outlier）会把整张量的 scale 撑大，让其它权重都挤进少数几个格子里。",
        "**absmax (symmetric)**: scale = max|w| / 127 (7 for int4), q = round(w / scale). "
        "**zero-point (asymmetric)**: scale = (max − min) / 255 (15 for int4), z = round(−min / scale), "
        "q = round(w / scale) + z. Either way no element moves by more than scale / 2, and a bigger scale "
        "means a bigger error: that is why sharing one scale per tensor, per output channel or per group of 32 "
        "matters. One outlier stretches a per-tensor scale and squeezes every other weight into a few levels.",
    ),
    "quantize.weight": ("权重矩阵", "Weight matrix"),
    "quantize.weight.info": ("模型里某个线性层的权重名", "The name of one Linear layer's weight"),
    "quantize.scheme": ("方法", "Scheme"),
    "quantize.bits": ("位数", "Bits"),
    "quantize.granularity": ("粒度", "Granularity"),
    "quantize.group_size": ("每组权重数（group）", "Weights per group"),
    "quantize.outlier": ("离群值放大倍数", "Outlier factor"),
    "quantize.outlier.info": ("把最大的那个权重乘以这个倍数，看各种粒度受多大影响",
                              "Multiply the largest weight by this and see which granularity suffers"),
    "quantize.byhand_run": ("量化这个矩阵", "Quantise this matrix"),
    "quantize.byhand_table": ("所有方法的误差（同一个矩阵）", "Error of every scheme (same matrix)"),
    "quantize.hist": ("量化前后的权重分布", "Weights before and after"),
    "quantize.outlier_plot": ("离群值的影响", "What one outlier does"),
    "quantize.byhand_summary": (
        "{weight}（{rows}×{cols}）用 {label}：MSE {mse:.2e}，最大误差 {max_err:.2e}，用到 {levels} 个整数值，"
        "{zero:.1%} 的非零权重变成了 0。",
        "{weight} ({rows}×{cols}) with {label}: MSE {mse:.2e}, max error {max_err:.2e}, {levels} integer levels "
        "used, {zero:.1%} of the non-zero weights came back as 0.",
    ),
    "quantize.col.label": ("方法", "scheme"),
    "quantize.col.mse": ("均方误差", "MSE"),
    "quantize.col.max_err": ("最大误差", "max error"),
    "quantize.col.levels": ("用到的整数值", "levels used"),
    "quantize.col.zero": ("变成 0 的比例", "zeroed share"),
    "quantize.col.scales": ("scale 个数", "scales"),
    "quantize.plot.before": ("原始权重", "original"),
    "quantize.plot.after": ("量化后再还原", "after round-trip"),
    "quantize.plot.value": ("权重值", "weight value"),
    "quantize.plot.count": ("个数（对数）", "count (log)"),
    "quantize.plot.mse_before": ("加离群值之前", "before the outlier"),
    "quantize.plot.mse_after": ("加离群值之后", "with the outlier"),
    "quantize.plot.mse_other": ("其它权重的均方误差（对数）", "MSE of the other weights (log)"),
    # whole model
    "quantize.whole": ("② 量化整个模型并实测", "② Quantise a whole model and measure it"),
    "quantize.whole_md": (
        "只量化权重（weight-only）：每个线性层的权重存成 int8（按输出通道）或 int4（每组一个 scale 和 zero-point），"
        "计算时临时还原成浮点。词嵌入和输出层保持原样。int8 / int4 用的是实验室自己写的 torch 代码："
        "这台只有 CPU 的机器上，torchao 的 int4 需要 CUDA 内核，optimum-quanto 的 int4 在推理模式下报错；"
        "NF4（bitsandbytes）只能在 CUDA 显卡上跑。量化后的模型在体验场和竞技场里可以直接写成 `smollm2-135m-instruct+int8`（或 `+int4`）。",
        "Weight-only: each Linear layer's weight is stored as int8 (per output channel) or int4 (a scale and "
        "zero-point per group) and turned back into floats while computing. Embeddings and the output head stay "
        "as they are. int8 / int4 are the lab's own torch code: on this CPU-only machine torchao's int4 needs CUDA "
        "kernels and optimum-quanto's int4 fails in inference mode; NF4 (bitsandbytes) runs only on CUDA GPUs. "
        "The quantised model works in the Playground and the Arena as `smollm2-135m-instruct+int8` (or `+int4`).",
    ),
    "quantize.method": ("量化方法", "Method"),
    "quantize.eval_text": ("用来算困惑度的文本", "Text for perplexity"),
    "quantize.eval_text.info": ("默认是实验室专门写的中英文短文（模型没见过）",
                                "Defaults to a zh/en text written for the lab (no model has seen it)"),
    "quantize.samples": ("并排比较几条回答", "Replies side by side"),
    "quantize.whole_run": ("量化并测量", "Quantise and measure"),
    "quantize.whole_table": ("原模型 vs 量化后", "Original vs quantised"),
    "quantize.whole_plot": ("相对原模型（原模型 = 1）", "Relative to the original (original = 1)"),
    "quantize.side_by_side": ("同一提示词的回答", "Replies to the same prompts"),
    "quantize.step.load": ("加载原模型……", "Loading the original model…"),
    "quantize.step.quantize": ("正在量化……", "Quantising…"),
    "quantize.step.baseline": ("测量原模型：困惑度、大小、生成速度……",
                               "Measuring the original: perplexity, size, decode speed…"),
    "quantize.step.quantized": ("测量量化后的模型……", "Measuring the quantised model…"),
    "quantize.step.samples": ("两个模型分别回答同样的问题……", "Both models answer the same prompts…"),
    "quantize.step.done": ("✓ 完成，用时 {seconds:.0f} 秒。", "✓ Done in {seconds:.0f} s."),
    "quantize.whole_summary": (
        "**{model} → {method}**：大小 ×{size}，困惑度 ×{ppl}，生成速度 ×{speed}（同一台机器、同一段文本）。"
        "在这台 CPU 上，权重量化省的是内存；速度要靠专门的低比特内核（如 llama.cpp）。",
        "**{model} → {method}**: size ×{size}, perplexity ×{ppl}, decode speed ×{speed} (same machine, same text). "
        "On this CPU, weight-only quantisation saves memory; speed needs dedicated low-bit kernels (e.g. llama.cpp).",
    ),
    "quantize.col.model": ("模型", "model"),
    "quantize.col.size_mb": ("内存中权重 MB", "weights in memory MB"),
    "quantize.col.disk_mb": ("磁盘 MB", "on disk MB"),
    "quantize.col.ppl": ("困惑度", "perplexity"),
    "quantize.col.tps": ("生成 token/秒", "decode tokens/s"),
    "quantize.col.prompt": ("提示词", "prompt"),
    "quantize.col.original_out": ("原模型的回答", "original's answer"),
    "quantize.col.quantized_out": ("量化后的回答", "quantised model's answer"),
    "quantize.col.same": ("前几个 token 相同", "same leading tokens"),
    "quantize.plot.size": ("大小", "size"),
    "quantize.plot.ppl": ("困惑度", "perplexity"),
    "quantize.plot.speed": ("生成速度", "decode speed"),
    "quantize.plot.ratio": ("相对原模型的倍数", "ratio to the original"),
    # gguf
    "quantize.gguf": ("③ GGUF 文件里存的是什么", "③ What a GGUF file stores"),
    "quantize.gguf_run": ("读取张量类型", "Read the tensor types"),
    "quantize.gguf_table": ("按类型统计", "Per type"),
    "quantize.gguf_plot": ("每种类型占的字节", "Bytes per type"),
    "quantize.gguf_summary": (
        "{file}：{tensors} 个张量，{mb} MB，平均每个权重 {bits} 位（全用 fp32 会是 {fp32} MB）。",
        "{file}: {tensors} tensors, {mb} MB, {bits} bits per weight on average (all fp32 would be {fp32} MB).",
    ),
    "quantize.col.type": ("类型", "type"),
    "quantize.col.tensors": ("张量数", "tensors"),
    "quantize.col.mb": ("MB", "MB"),
    "quantize.col.bpw": ("每权重位数", "bits/weight"),
    "quantize.col.examples": ("例子", "examples"),
    "quantize.col.meaning": ("含义", "what it means"),
    "quantize.plot.mb": ("MB", "MB"),
    "quantize.gguf.F32": ("32 位浮点，不量化（通常是 norm 层的小向量）", "32-bit float, not quantised (usually the small norm vectors)"),
    "quantize.gguf.F16": ("16 位浮点", "16-bit float"),
    "quantize.gguf.BF16": ("bfloat16：指数位和 fp32 一样多，尾数更少", "bfloat16: fp32's exponent range, fewer mantissa bits"),
    "quantize.gguf.Q8_0": ("每 32 个权重一组：1 个 fp16 scale + 32 个 int8（absmax，约 8.5 位/权重）",
                           "Blocks of 32: one fp16 scale + 32 int8 (absmax, ~8.5 bits/weight)"),
    "quantize.gguf.Q4_0": ("每 32 个一组：1 个 fp16 scale + 32 个 4 位整数（对称，约 4.5 位/权重）",
                           "Blocks of 32: one fp16 scale + 32 4-bit ints (symmetric, ~4.5 bits/weight)"),
    "quantize.gguf.Q4_1": ("每 32 个一组：fp16 的 scale 和最小值 + 32 个 4 位整数（非对称，即 zero-point，5 位/权重）",
                           "Blocks of 32: fp16 scale and minimum + 32 4-bit ints (asymmetric, i.e. zero-point, 5 bits/weight)"),
    "quantize.gguf.Q5_0": ("每 32 个一组，5 位整数，对称（约 5.5 位/权重）", "Blocks of 32, 5-bit ints, symmetric (~5.5 bits/weight)"),
    "quantize.gguf.Q5_1": ("每 32 个一组，5 位整数，带最小值（6 位/权重）", "Blocks of 32, 5-bit ints with a minimum (6 bits/weight)"),
    "quantize.gguf.Q2_K": ("K 量化：256 个一超级块，2 位，子块的 scale 也被量化（约 2.6 位/权重）",
                           "K-quant: super-blocks of 256, 2-bit, the sub-block scales quantised too (~2.6 bits/weight)"),
    "quantize.gguf.Q3_K": ("K 量化：256 个一超级块，3 位（约 3.4 位/权重）", "K-quant: super-blocks of 256, 3-bit (~3.4 bits/weight)"),
    "quantize.gguf.Q4_K": ("K 量化：256 个一超级块，分 8 个 32 的子块，子块的 scale 和最小值用 6 位存（4.5 位/权重）",
                           "K-quant: super-blocks of 256 in 8 sub-blocks of 32 whose scales and minimums are 6-bit (4.5 bits/weight)"),
    "quantize.gguf.Q5_K": ("K 量化，5 位（5.5 位/权重）", "K-quant, 5-bit (5.5 bits/weight)"),
    "quantize.gguf.Q6_K": ("K 量化，6 位，16 个子块各有 8 位 scale（约 6.6 位/权重）；Q4_K_M 把它留给最敏感的张量",
                           "K-quant, 6-bit, 16 sub-blocks with 8-bit scales (~6.6 bits/weight); Q4_K_M keeps it for the most sensitive tensors"),
    "quantize.gguf.other": ("（这种类型这里没有解释）", "(no explanation for this type here)"),
    # tricks
    "quantize.tricks": ("④ 推理加速技巧，逐个实测", "④ Inference tricks, each measured"),
    "quantize.kv_run": ("KV 缓存：开 vs 关", "KV cache: on vs off"),
    "quantize.kv_plot": ("每生成一个 token 的耗时", "Time per generated token"),
    "quantize.kv_summary": (
        "有 KV 缓存：{on} token/秒；没有：{off} token/秒（×{speedup}）。两次生成的文本{same}。"
        "没有缓存时，每一步都要把整段序列重新算一遍，越长越慢。",
        "With the KV cache: {on} tokens/s; without: {off} tokens/s (×{speedup}). The two texts are {same}. "
        "Without a cache every step recomputes the whole sequence, so it slows down as the text grows.",
    ),
    "quantize.same": ("完全相同", "identical"),
    "quantize.different": ("不同", "different"),
    "quantize.plot.length": ("序列长度（token）", "sequence length (tokens)"),
    "quantize.plot.ms": ("毫秒 / token", "ms per token"),
    "quantize.plot.with_cache": ("有 KV 缓存", "with KV cache"),
    "quantize.plot.without_cache": ("没有 KV 缓存", "without KV cache"),
    "quantize.kvsize_run": ("KV 缓存有多大：GQA / MHA / MQA", "KV-cache size: GQA / MHA / MQA"),
    "quantize.kvsize_plot": ("KV 缓存大小随长度增长", "KV-cache size against length"),
    "quantize.kvsize_summary": (
        "{layers} 层，{heads} 个查询头共用 {kv_heads} 个 K/V 头（每 {group} 个一组），每头 {head_dim} 维。"
        "公式：2 × 层数 × K/V 头数 × 每头维数 × token 数 × 每个数的字节（fp16 = 2）。"
        "实测：{tokens} 个 token 的缓存 {measured} 字节，公式给出 {formula} 字节。",
        "{layers} layers, {heads} query heads sharing {kv_heads} K/V heads (groups of {group}), {head_dim} dims per head. "
        "Formula: 2 × layers × K/V heads × head dim × tokens × bytes per number (fp16 = 2). "
        "Measured: a {tokens}-token cache holds {measured} bytes; the formula says {formula}.",
    ),
    "quantize.plot.tokens": ("上下文长度（token）", "context length (tokens)"),
    "quantize.plot.cache_mb": ("KV 缓存 MB（fp16）", "KV cache MB (fp16)"),
    "quantize.lookup_run": ("提示词查找（投机）解码", "Prompt-lookup (speculative) decoding"),
    "quantize.lookup_summary": (
        "草稿 token 从已有文本里“抄”来，一次前向同时验证：提出 {proposed} 个，接受 {accepted} 个（接受率 {rate:.0%}）；"
        "前向次数 {passes} 次 vs 普通贪心 {plain} 次；耗时 {lookup_s} 秒 vs {plain_s} 秒（×{speedup}）。"
        "transformers 自带的 prompt lookup：×{hf_speedup}。输出与普通贪心解码{same}。\n\n> {text}",
        "Draft tokens are copied from the text so far and checked in one forward pass: {proposed} proposed, "
        "{accepted} accepted (acceptance {rate:.0%}); {passes} forward passes vs {plain} for plain greedy; "
        "{lookup_s} s vs {plain_s} s (×{speedup}). transformers' own prompt lookup: ×{hf_speedup}. "
        "The output is {same} to plain greedy decoding.\n\n> {text}",
    ),
    "quantize.attn_run": ("sdpa vs eager 注意力", "sdpa vs eager attention"),
    "quantize.attn_table": ("一次前向（预填充）的耗时", "One forward pass (prefill)"),
    "quantize.col.tokens": ("token 数", "tokens"),
    "quantize.col.sdpa": ("sdpa 毫秒", "sdpa ms"),
    "quantize.col.eager": ("eager 毫秒", "eager ms"),
    "quantize.col.diff": ("最后一个 logit 的最大差", "max logit difference"),
    "quantize.tricks_out": ("结果", "Result"),
    # errors
    "quantize.bad_method": ("不支持的量化方法「{method}」。可选：{choices}", "Unknown quantisation method '{method}'. Choices: {choices}"),
    "quantize.embedding_model": ("「{name}」是句向量模型，不生成文本，没法测困惑度和生成速度。请选一个生成模型。",
                                 "'{name}' is an embedding model: it generates no text, so perplexity and decode speed mean nothing. Pick a generative model."),
    "quantize.needs_cuda": ("{method} 需要 CUDA 显卡（bitsandbytes 的内核只有 GPU 版），这台机器没有。请改用 int8 或 int4。",
                            "{method} needs a CUDA GPU (bitsandbytes' kernels are GPU-only) and this machine has none. Use int8 or int4 instead."),
    "quantize.missing_package": ("{method} 需要安装 {package}：pip install {package}", "{method} needs {package}: pip install {package}"),
    "quantize.empty_text": ("用来算困惑度的文本是空的。请给一段文字（或者留空文件名，用实验室自带的文本）。",
                            "The perplexity text is empty. Give some text (or leave the file out to use the lab's own text)."),
    "quantize.no_text_file": ("找不到文本文件 {path}。", "No text file at {path}."),
    "quantize.bad_text_file": ("{path} 不是 UTF-8 文本。", "{path} is not UTF-8 text."),
    "quantize.output_exists": ("输出文件夹 {path} 已经存在且不是空的；为了不覆盖你的东西，请换一个名字。",
                               "The output folder {path} exists and is not empty; pick another name so nothing of yours is overwritten."),
    "quantize.bad_weight": ("模型里没有名为「{name}」的二维权重。例如：{example}", "The model has no 2-D weight named '{name}'. For example: {example}"),
    "quantize.not_gguf": ("「{name}」不是以 GGUF 文件提供的模型。", "'{name}' does not come as a GGUF file."),
    "quantize.bad_group": ("每组权重数必须是 2 的幂（1–4096），不能是 {group}。", "The group size must be a power of two (1–4096), not {group}."),
    "quantize.bad_samples": ("并排比较的回答数必须在 0–3 之间。", "Replies side by side must be between 0 and 3."),
    "quantize.bad_new_tokens": ("生成 token 数必须在 4–512 之间。", "New tokens must be between 4 and 512."),
    "quantize.gguf_suffix": ("请给一个新的 .gguf 文件名（--output 文件名.gguf），而不是「{path}」。",
                             "Give a new .gguf file name (--output NAME.gguf), not '{path}'."),
    "quantize.gguf_exists": ("文件 {path} 已经存在；为了不覆盖你的东西，请换一个名字。", "The file {path} exists; pick another name so nothing of yours is overwritten."),
    "quantize.gguf_no_folder": ("文件夹 {path} 不存在。", "The folder {path} does not exist."),
    "quantize.gguf_qtype": ("GGUF 导出类型「{qtype}」不支持。可选：{choices}", "GGUF export type '{qtype}' is not supported. Choices: {choices}"),
    "quantize.gguf_arch": ("「{name}」是 {arch} 架构；导出 GGUF 目前只支持 Llama 架构（SmolLM2、实验室预训练的模型及其微调）。",
                           "'{name}' is a {arch} model; GGUF export supports the Llama architecture only (SmolLM2, models pretrained in the lab, and their fine-tunes)."),
    "quantize.gguf_from_quantized": ("请从浮点模型「{base}」导出，并用 --gguf-type 选择量化格式（q8_0），而不是从「{name}」。",
                                     "Export from the float model '{base}' and pick the format with --gguf-type (q8_0), not from '{name}'."),
    "quantize.gguf_tokenizer": ("这个分词器是 {kind} 类型；GGUF 导出只支持字节级 BPE。", "This tokenizer is {kind}; GGUF export supports byte-level BPE only."),
    "quantize.group_mismatch": ("这一层的输入维度 {dim} 不是每组权重数 {group} 的倍数。", "This layer's input dimension {dim} is not a multiple of the group size {group}."),
}
