"""Strings of the Deploy tab, the terminal chat, the app export and the llama.cpp engine."""
STRINGS = {
    # llama.cpp engine (apps/models/llamacpp.py)
    "llama.not_installed": (
        "没有安装 llama.cpp 引擎（llama-cpp-python，可选）。在项目根目录运行 `make llama` 安装（需编译几分钟）；"
        "内置模型不需要它，可直接用实验室自己的引擎运行。",
        "The llama.cpp engine (llama-cpp-python, optional) is not installed. Run `make llama` in the project "
        "folder to install it (it compiles for a few minutes); the built-in models run on the lab's own engine without it.",
    ),
    "llama.corrupt": (
        "文件 {path} 不是有效的 GGUF 模型（可能下载不完整或已损坏）：{reason}",
        "{path} is not a valid GGUF model (perhaps an incomplete download or a damaged file): {reason}",
    ),
    "llama.no_file": ("找不到 GGUF 文件：{path}", "No GGUF file at {path}"),
    "llama.not_gguf": (
        "“{name}”不是 GGUF 模型，不能用 llama.cpp 运行；去掉 @llama.cpp 即可用实验室自己的引擎。",
        "'{name}' is not a GGUF model, so llama.cpp cannot run it; drop '@llama.cpp' to use the lab's own engine.",
    ),
    "llama.too_big": (
        "模型“{name}”放不进内存：约需 {need} MB（权重文件 {file} MB + {ctx} 上下文的 KV 缓存 {kv} MB），"
        "当前可用 {avail} MB。换一个更小的量化版本（如 Q4_K_M、Q3_K_S）、关掉其他程序，或用 LLMLAB_LLAMA_CTX 缩短上下文。",
        "Model '{name}' does not fit in memory: it needs about {need} MB (weights file {file} MB + KV cache {kv} MB "
        "for a {ctx}-token context), and {avail} MB are available. Pick a smaller quantisation (e.g. Q4_K_M, "
        "Q3_K_S), close other programs, or shorten the context with LLMLAB_LLAMA_CTX.",
    ),
    "llama.plan": (
        "内存：权重 {file} MB + KV 缓存 {kv} MB（{ctx} 上下文）≈ 需要 {need} MB，可用 {avail} MB",
        "Memory: weights {file} MB + KV cache {kv} MB ({ctx}-token context) ≈ {need} MB needed, {avail} MB available",
    ),
    "llama.no_beams": (
        "llama.cpp 引擎不做束搜索：请把 num_beams 设为 1，或去掉 @llama.cpp 用实验室自己的引擎。",
        "The llama.cpp engine does not do beam search: set num_beams to 1, or drop '@llama.cpp' to use the lab's own engine.",
    ),
}
