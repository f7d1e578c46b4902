"""Strings of the Deploy tab, the terminal chat, the app export and the llama.cpp engine."""
STRINGS = {
    # llama.cpp engine (apps/models/llamacpp.py)
    "llama.not_installed": (
        "没有可用的 llama.cpp 引擎：`make install` 会装上预编译的 xllamacpp（若设了 LLMLAB_LLAMA=off 请去掉）；"
        "也可以运行 `make llama` 编译 llama-cpp-python（需几分钟）。内置模型不需要它，可直接用实验室自己的引擎运行。",
        "No llama.cpp engine is available: `make install` brings the prebuilt xllamacpp (unset LLMLAB_LLAMA=off if "
        "you set it), or run `make llama` to compile llama-cpp-python (a few minutes). The built-in models run on "
        "the lab's own engine without it.",
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
    # terminal chat (apps/deploy/chat.py, cli.py)
    "chat.loading": ("正在加载 {model} …", "Loading {model} …"),
    "chat.ready": (
        "已就绪：{model}（引擎 {engine}）。输入消息回车发送；/help 查看命令；Ctrl-C 停止回复；Ctrl-D 退出。",
        "Ready: {model} (engine {engine}). Type a message and press Enter; /help for commands; Ctrl-C stops a reply; Ctrl-D leaves.",
    ),
    "chat.prompt": ("你> ", "you> "),
    "chat.bot": ("模型> ", "model> "),
    "chat.stopped": ("[已停止：已说的部分保留在对话里]", "[stopped: what was said stays in the conversation]"),
    "chat.leave_hint": ("（按 Ctrl-D 或输入 /exit 退出）", "(Ctrl-D or /exit to leave)"),
    "chat.stats": (
        "[{n} 个 token · {tps:.1f} token/秒 · 首 token {ttft:.0f} 毫秒 · {finish}]",
        "[{n} tokens · {tps:.1f} tokens/s · first token {ttft:.0f} ms · {finish}]",
    ),
    "chat.error": ("出错了：{message}", "Error: {message}"),
    "chat.help": (
        "/reset 清空对话 · /save 文件 保存对话(JSON) · /model [名称] 查看或切换模型 · "
        "/params [temperature=0.7 max_tokens=64 …] 查看或修改解码参数 · /system [文本] 查看或设置系统提示词 · /exit 退出",
        "/reset clear the conversation · /save FILE save it (JSON) · /model [NAME] show or switch the model · "
        "/params [temperature=0.7 max_tokens=64 …] show or set decoding · /system [TEXT] show or set the system prompt · /exit leave",
    ),
    "chat.reset": ("对话已清空。", "Conversation cleared."),
    "chat.system": ("系统提示词：{system}", "System prompt: {system}"),
    "chat.params": ("解码参数：{params}", "Decoding: {params}"),
    "chat.model": ("当前模型：{model}\n可选：{choices}", "Model: {model}\nAvailable: {choices}"),
    "chat.model_switched": ("已切换到 {model}（对话保留）。", "Switched to {model} (the conversation stays)."),
    "chat.unknown_command": ("未知命令 {name}。可用：{commands}", "Unknown command {name}. Available: {commands}"),
    "chat.save_needs_file": ("请给出文件名，例如 /save chat.json", "Name a file, e.g. /save chat.json"),
    "chat.save_failed": ("无法写入 {path}：{reason}", "Cannot write {path}: {reason}"),
    "chat.saved": ("已保存 {n} 条消息到 {path}", "Saved {n} messages to {path}"),
    # export (apps/deploy/export.py)
    "deploy.output_not_empty": ("输出文件夹 {path} 已存在且不为空：请换一个新文件夹。", "The output folder {path} exists and is not empty: pick a new one."),
    "deploy.no_quant": (
        "导出的应用不支持运行时量化（+{method}）：请先用 llmlab quantize --output 保存量化后的文件夹，再导出它。",
        "An exported app cannot quantise on load (+{method}): save the quantised folder with `llmlab quantize --output` and export that.",
    ),
    "deploy.bad_adapter": ("{path} 不是 LoRA 适配器文件夹（缺少 adapter_config.json）。", "{path} is not a LoRA adapter folder (no adapter_config.json)."),
    "deploy.bad_index": (
        "{path} 不是实验室的 RAG 索引文件夹（缺少 meta.json 或 index.faiss）。先在 RAG 页面或用 llmlab rag build 建索引。",
        "{path} is not a lab RAG index folder (no meta.json or index.faiss). Build one in the RAG tab or with `llmlab rag build`.",
    ),
    "deploy.exported": ("应用已导出到 {output}（{mb} MB）。运行：{run}", "App exported to {output} ({mb} MB). Run it: {run}"),
    # load test (apps/deploy/loadtest.py)
    "deploy.load_line": (
        "{n} 路并发：完成 {served}，拒绝 {refused}，失败 {failed} · 总吞吐 {tps} token/秒 · 首 token p50 {ttft50} 秒 / p95 {ttft95} 秒",
        "{n} streams: {served} served, {refused} refused, {failed} failed · {tps} tokens/s in all · first token p50 {ttft50} s / p95 {ttft95} s",
    ),
    "deploy.plot_time": ("时间（秒）", "time (s)"),
    "deploy.plot_stream": ("请求", "stream"),
    "deploy.plot_title": (
        "{n} 路并发 · 总吞吐 {tps} token/秒 · 首 token p95 {ttft:.2f} 秒",
        "{n} streams · {tps} tokens/s in all · first token p95 {ttft:.2f} s",
    ),
    "deploy.plot_wait": ("等待首个 token（排队 + 预填充）", "waiting for the first token (queue + prefill)"),
    "deploy.plot_gen": ("生成中", "generating"),
    "deploy.plot_refused": ("被拒绝 / 失败", "refused / failed"),
    # connect (apps/deploy/connect.py)
    "deploy.cmd.check": ("检查实验室的 /v1 是否可达", "Check that the lab's /v1 answers"),
    "deploy.cmd.check.note": ("应当列出实验室的模型。", "It lists the lab's models."),
    "deploy.cmd.openwebui_docker": ("Open WebUI（Docker）接入实验室", "Open WebUI (Docker) on the lab"),
    "deploy.cmd.openwebui_docker.note": (
        "打开 http://127.0.0.1:3000 ，模型列表里就是实验室的模型。容器里的 127.0.0.1 是容器自己，所以用 host.docker.internal 指向本机。",
        "Open http://127.0.0.1:3000: the model list shows the lab's models. Inside a container 127.0.0.1 is the container itself, hence host.docker.internal.",
    ),
    "deploy.cmd.openwebui_pip": ("Open WebUI（pip 安装）接入实验室", "Open WebUI (pip) on the lab"),
    "deploy.cmd.openwebui_pip.note": (
        "也可以在 Open WebUI 的 设置 → 连接 → OpenAI API 里填写这个地址。",
        "Or enter this URL in Open WebUI under Settings → Connections → OpenAI API.",
    ),
    "deploy.cmd.lab_gguf": ("在笔记本上跑大模型：实验室 + llama.cpp", "A big model on a laptop: the lab + llama.cpp"),
    "deploy.cmd.lab_gguf.note": (
        "7B 的 Q4 GGUF 约 4–5 GB，16 GB 内存的笔记本就能对话；加载前会显示需要的内存和可用内存。",
        "A 7B Q4 GGUF is about 4–5 GB, so it chats on a 16 GB laptop; memory needed vs available is shown before it loads.",
    ),
    "deploy.cmd.ollama": ("Ollama 作为实验室的模型提供方", "Ollama as a provider of the lab"),
    "deploy.cmd.ollama.note": (
        "在任务、竞技场、RAG 页面选择预设“Ollama（本机）”即可调用。",
        "Pick the preset 'Ollama (local)' in the Tasks, Arena or RAG tab.",
    ),
    "deploy.cmd.vllm": ("vLLM 作为实验室的模型提供方", "vLLM as a provider of the lab"),
    "deploy.cmd.vllm.note": (
        "vLLM 需要 GPU，擅长高并发（PagedAttention + 连续批处理）；在各页面选择预设“vLLM（自建）”。",
        "vLLM needs a GPU and shines under many concurrent users (PagedAttention + continuous batching); pick the preset 'vLLM (self-hosted)'.",
    ),
    "deploy.cmd.llamacpp_server": ("llama.cpp 服务器作为提供方", "A llama.cpp server as a provider"),
    "deploy.cmd.llamacpp_server.note": (
        "在各页面选择预设“自定义地址”，填 http://127.0.0.1:8080/v1 。",
        "Pick the preset 'Custom base URL' and enter http://127.0.0.1:8080/v1.",
    ),
    "deploy.cmd.loadtest": ("压测：N 路并发流式对话", "Load test: N concurrent streaming chats"),
    "deploy.cmd.loadtest.note": (
        "对任何 OpenAI 兼容地址都适用：比较实验室、Ollama、vLLM 在并发下的吞吐和首 token 延迟。",
        "Works against any OpenAI-compatible URL: compare the lab, Ollama and vLLM under concurrency.",
    ),
    # the Deploy tab (apps/deploy/view.py)
    "deploy.tab": ("⑧ 部署实战", "⑧ Deploy"),
    "deploy.intro": (
        "把模型用起来：实验室自带 OpenAI 兼容的 `/v1` 接口，可以接到 Open WebUI 这样的聊天界面；"
        "Ollama、vLLM、llama.cpp 服务器也能反过来作为实验室的模型提供方。再用压测亲眼看看“高并发”是什么样子，"
        "最后把你的模型、系统提示词和知识库导出成一个能独立运行的应用。",
        "Put models to work: the lab speaks the OpenAI API at `/v1`, so chat consoles such as Open WebUI plug into it; "
        "Ollama, vLLM and llama.cpp servers plug into the lab as providers. Load-test an endpoint to see what "
        "'many users at once' looks like, then export your model, system prompt and knowledge base as an app of your own.",
    ),
    "deploy.connect": ("接入：聊天界面与模型服务器（命令可直接复制）", "Connect: chat consoles and model servers (commands to copy)"),
    "deploy.base_url": ("实验室 /v1 的地址（别人访问到的地址）", "The lab's /v1 as others reach it"),
    "deploy.base_url.info": ("默认取你打开本页所用的地址；改它，下面的命令随之更新", "Defaults to the address this page was opened at; edit it and the commands follow"),
    "deploy.loadtest": ("压测：N 路并发流式请求", "Load test: N concurrent streams"),
    "deploy.loadtest_intro": (
        "同时发起 N 个流式对话，测总吞吐（token/秒）和首 token 延迟。灰色是等待首个 token 的时间（排队 + 预填充），"
        "蓝色是生成中。把 N 从 1 调到 16、32，看看批处理引擎怎么把多个请求一起算。",
        "Start N streaming chats at once and measure tokens/s in all and the time to the first token. Grey is the wait "
        "for the first token (queue + prefill), blue is generating. Raise N from 1 to 16 and 32 and watch a batching "
        "engine serve them together.",
    ),
    "deploy.target": ("被测地址（OpenAI 兼容的 /v1）", "Endpoint (OpenAI-compatible /v1)"),
    "deploy.target.info": ("默认是本实验室自己；课堂模式下只能测预设地址和白名单里的地址", "Defaults to this lab; in classroom mode only preset and allow-listed URLs"),
    "deploy.model": ("模型 ID", "Model id"),
    "deploy.api_key": ("API Key（可选，只在本次请求中使用）", "API key (optional, used for this run only)"),
    "deploy.streams": ("并发数 N", "Concurrent streams N"),
    "deploy.max_tokens": ("每个回复的 token 数", "Tokens per reply"),
    "deploy.run": ("开始压测", "Run the load test"),
    "deploy.apps": ("终端对话、本地大模型与导出应用（命令行）", "Terminal chat, big local models and app export (command line)"),
    "deploy.apps_md": (
        "**在终端里对话**（多轮、流式；Ctrl-C 停止当前回复；/reset /save 文件 /model /params /system）：\n\n"
        "```bash\nllmlab chat --model smollm2-135m-instruct --system \"你是一位耐心的老师\"\n```\n\n"
        "**在笔记本上跑 7B 大模型**：先 `make llama` 安装可选的 llama.cpp 引擎，再用量化好的 GGUF 文件；加载前会显示需要的内存和可用内存。\n\n"
        "```bash\nmake llama\nllmlab chat --model ~/models/qwen2.5-7b-instruct-q4_k_m.gguf\n"
        "llmlab chat --model smollm2-135m-instruct@llama.cpp\n```\n\n"
        "**导出你的第一个 AI 应用**（模型或微调适配器 + 系统提示词 + 可选 RAG 索引 → 一个可独立运行、可发布到 Hugging Face Space 的文件夹）：\n\n"
        "```bash\nllmlab deploy export --model smollm2-135m-instruct --index runs/rag-demo --system \"只根据资料回答\" --output my-app\n"
        "cd my-app && python app.py\n```",
        "**Chat in the terminal** (multi-turn, streaming; Ctrl-C stops the reply; /reset /save FILE /model /params /system):\n\n"
        "```bash\nllmlab chat --model smollm2-135m-instruct --system \"You are a patient teacher.\"\n```\n\n"
        "**A 7B model on a laptop**: install the optional llama.cpp engine with `make llama`, then chat with a quantised "
        "GGUF file; memory needed vs available is shown before it loads.\n\n"
        "```bash\nmake llama\nllmlab chat --model ~/models/qwen2.5-7b-instruct-q4_k_m.gguf\n"
        "llmlab chat --model smollm2-135m-instruct@llama.cpp\n```\n\n"
        "**Export your first AI app** (a model or tuned adapter + a system prompt + an optional RAG index → a folder that "
        "runs on its own and can be pushed to a Hugging Face Space):\n\n"
        "```bash\nllmlab deploy export --model smollm2-135m-instruct --index runs/rag-demo --system \"Answer from the sources only.\" --output my-app\n"
        "cd my-app && python app.py\n```",
    ),
    # export from the tab (apps/deploy/bundle.py, view.py)
    "deploy.not_offered": (
        "“{name}”不在可导出的模型里：请从列表中选择一个内置模型，或你自己的已完成微调。",
        "'{name}' is not one of the models you can export: pick a built-in model or one of your own finished fine-tunes from the list.",
    ),
    "deploy.no_index": (
        "你还没有自己的 RAG 索引：先在 RAG 页面建一个，或取消勾选“用我的知识库回答”。",
        "You have no RAG index of your own yet: build one in the RAG tab, or untick 'Answer from my knowledge base'.",
    ),
    "deploy.system_too_long": ("系统提示词太长：{n} 个字符，最多 {max} 个。", "The system prompt is too long: {n} characters, at most {max}."),
    "deploy.title_too_long": ("应用标题太长：{n} 个字符，最多 {max} 个。", "The app title is too long: {n} characters, at most {max}."),
    "deploy.ex": ("导出你的第一个 AI 应用（下载 zip）", "Export your first AI app (download a zip)"),
    "deploy.ex_intro": (
        "选一个模型（内置模型，或你自己微调好的），可选你在 RAG 页面建的知识库，写上系统提示词和解码设置，"
        "得到一个 zip：解压后 `pip install -r requirements.txt && python app.py` 就能独立运行，也能直接推到 Hugging Face Space。"
        "带完整权重的 PyTorch 模型约 500 MB；GGUF（llama.cpp）版本小得多，但运行时需要 llama-cpp-python。",
        "Pick a model (a built-in one or your own fine-tune), optionally the knowledge base you built in the RAG tab, a "
        "system prompt and decoding settings, and get a zip: unpack it and `pip install -r requirements.txt && python app.py` "
        "runs it on its own, or push it to a Hugging Face Space. A PyTorch model with its full weights is about 500 MB; "
        "the GGUF (llama.cpp) version is much smaller but needs llama-cpp-python to run.",
    ),
    "deploy.ex_model": ("模型", "Model"),
    "deploy.ex_choice.registry": ("{name}（PyTorch 权重）", "{name} (PyTorch weights)"),
    "deploy.ex_choice.gguf": ("{name}（GGUF，llama.cpp，体积小）", "{name} (GGUF, llama.cpp, small)"),
    "deploy.ex_choice.run": ("我的微调：{label}（基于 {base}）", "My fine-tune: {label} (on {base})"),
    "deploy.ex_index": ("用我的知识库（RAG 索引）回答", "Answer from my knowledge base (RAG index)"),
    "deploy.ex_index.info": ("你在 RAG 页面建的索引会一起打包", "The index you built in the RAG tab goes into the app"),
    "deploy.ex_system": ("系统提示词", "System prompt"),
    "deploy.ex_title": ("应用标题", "App title"),
    "deploy.ex_max_tokens": ("每个回复最多 token 数", "Longest reply (tokens)"),
    "deploy.ex_temperature": ("温度（0 = 贪心）", "Temperature (0 = greedy)"),
    "deploy.ex_run": ("生成应用 zip", "Build the app zip"),
    "deploy.ex_file": ("下载应用", "Download the app"),
    "deploy.ex_done": (
        "已生成 `{name}`（{mb} MB，{n} 个文件）。解压后运行：`pip install -r requirements.txt && python app.py`。依赖：{reqs}",
        "Built `{name}` ({mb} MB, {n} files). Unpack it and run `pip install -r requirements.txt && python app.py`. Requirements: {reqs}",
    ),
}
