"""Strings of the alignment stage (apps/align: preferences from votes, reward models), zh and en."""

STRINGS = {
    "align.bad_source": ("未知的投票来源：{value}（可选：{choices}）", "Unknown vote source: {value} (choices: {choices})"),
    "align.no_reward_model": (
        "{path} 不是奖励模型：需要一次已完成的 reward 训练的运行文件夹（或其中的 reward/ 文件夹）",
        "{path} is not a reward model: give the folder of a finished reward run (or its reward/ folder)",
    ),
    "align.bad_batch": ("提示 {prompts} 条、回答 {completions} 条：两者数量必须相同",
                        "{prompts} prompts but {completions} replies: they must pair up one to one"),
    "align.empty_text": ("{name} 不能为空", "{name} must not be empty"),
    "align.no_pairs": ("没有可用的偏好对（{votes} 票中：平局 {ties}，都不好 {both_bad}，其他来源 {other_sources}）",
                       "No preference pairs to write (of {votes} votes: {ties} ties, {both_bad} both bad, "
                       "{other_sources} from other sources)"),
    "align.prefs.summary": (
        "已写入 {kept} 个偏好对到 {path}（共 {votes} 票；略去：平局 {ties}，都不好 {both_bad}，其他来源 {other_sources}，"
        "无法使用 {unusable}）",
        "Wrote {kept} preference pairs to {path} ({votes} votes; left out: {ties} ties, {both_bad} both bad, "
        "{other_sources} from other sources, {unusable} unusable)",
    ),
    "align.prefs.ready": (
        "{kept} 个偏好对（prompt/chosen/rejected），可直接用于 DPO 或奖励模型训练（共 {votes} 票；略去：平局 {ties}，"
        "都不好 {both_bad}，其他来源 {other_sources}，无法使用 {unusable}）",
        "{kept} preference {kept:plural:pair|pairs} (prompt/chosen/rejected), ready for DPO or a reward model "
        "({votes} votes; left out: {ties} ties, {both_bad} both bad, {other_sources} from other sources, {unusable} unusable)",
    ),
    "align.pick_reward": ("先选一个你训练好的奖励模型（微调页里目标选 reward）。",
                          "Pick one of your finished reward models first (fine-tune with objective 'reward')."),
    "align.no_reply": ("还没有可以打分的回答：先在上面聊一句。", "There is no reply to score yet: chat first."),
    "align.score.result": ("奖励分数：{score:.4f}（只有不同回答之间的差值有意义）",
                           "Reward: {score:.4f} (only differences between replies mean anything)"),
}
