"""Strings of the Space mode (apps/space): the notices a Space visitor sees, and the CLI's errors."""

STRINGS = {
    "space.offline_fallback": (
        "这个 Space 连不上 Hugging Face Hub，所以改用随包附带的离线小模型（SmolLM2-135M、all-MiniLM-L6-v2）。功能都在，只是模型小一些。",
        "This Space cannot reach the Hugging Face Hub, so it uses the small offline models shipped with the lab "
        "(SmolLM2-135M, all-MiniLM-L6-v2). Everything works; the models are just smaller.",
    ),
    "space.not_durable": (
        "注意：这个 Space 没有配置持久存储。投票、学习进度、训练结果和索引会在 Space 重启时丢失。"
        "Space 的主人可以挂载一个 Storage Bucket：hf spaces volumes set 主人/空间 -v hf://buckets/主人/桶:/data",
        "Note: this Space has no durable storage. Votes, progress, runs and indexes are lost when the Space "
        "restarts. Its owner can mount a Storage Bucket: hf spaces volumes set OWNER/SPACE -v hf://buckets/OWNER/BUCKET:/data",
    ),
    "space.cpu_only": (
        "这个 Space 在 CPU 上运行：生成和训练会慢一些，但每个功能都能用。",
        "This Space runs on CPU: generation and training are slower, but every feature works.",
    ),
    "space.zerogpu_training": (
        "这个 Space 用的是 ZeroGPU：每次生成回答时临时借一块 GPU（按你的每日额度计时）。"
        "微调也在借来的 GPU 上跑：每次最多借 5 分钟，长一些的训练会从上一个检查点接着借下一次，同样算你的额度；"
        "额度用完时训练会停下并保留检查点，之后可以继续。预训练仍在 CPU 上运行：步数请设小一些。",
        "This Space runs on ZeroGPU: each reply borrows a GPU for that call (timed against your daily quota). "
        "Fine-tuning trains on a borrowed GPU too, at most 5 minutes per call; a longer run continues from its "
        "last checkpoint in the next call, also from your quota. When the quota is spent the run stops with its "
        "checkpoint kept, ready to resume later. Pretraining still runs on CPU: keep it to a few steps.",
    ),
    "space.gpu_quota": (
        "你今天的 ZeroGPU 免费额度已经用完了。可以明天再来，登录 Hugging Face 账号获得更多额度，或者先用 CPU 能做的功能。",
        "Your ZeroGPU quota for today is spent. Come back tomorrow, sign in to Hugging Face for more, or use what runs on CPU meanwhile.",
    ),
    "space.quota_on_cpu": (
        "你今天的 ZeroGPU 额度已经用完，所以这次回答改在 CPU 上生成，会慢一些。",
        "Your ZeroGPU quota for today is spent, so this reply comes from the CPU and is slower.",
    ),
    "space.api_closed": (
        "这个 Space 上的 /v1 接口默认关闭：Space 的主人设置 LLMLAB_API_KEY 后才会打开。",
        "/v1 is closed on this Space: it opens only when the Space's owner sets LLMLAB_API_KEY.",
    ),
    "space.output_exists": ("{path} 已经存在且不是空文件夹；为了不覆盖你的东西，请换一个名字。",
                            "{path} exists and is not an empty folder; pick another name so nothing of yours is overwritten."),
    "space.need_dir": ("请给出要生成的 Space 文件夹，例如：llmlab space build dist/space",
                       "Name the Space folder to build, e.g. llmlab space build dist/space"),
    "space.bad_repo": ("Space 的名字要写成「主人/名字」，不能是「{repo}」。", "A Space id looks like OWNER/NAME, not '{repo}'."),
    "space.not_built": ("{path} 不是用 llmlab space build 生成的 Space 文件夹（没有带头信息的 README.md）。",
                        "{path} is not a Space folder made by `llmlab space build` (no README.md with a header)."),
}
