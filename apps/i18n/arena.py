"""Strings of the eval arena tab (apps/arena), zh and en side by side."""

STRINGS = {
    "arena.tab": ("模型竞技场", "Eval arena"),
    # errors
    "arena.bad_winner": (
        "第 {line} 条投票的 winner 是“{winner}”，只能是：{choices}。",
        "Vote {line} has winner '{winner}'; it must be one of: {choices}.",
    ),
    "arena.bad_line": ("投票文件第 {line} 行无法读取：{why}", "Line {line} of the vote file cannot be read: {why}"),
    "arena.no_file": ("找不到投票文件：{path}", "No vote file at {path}"),
    "arena.no_votes": ("还没有任何投票，无法计算评分。先去对战投几票吧。", "There are no votes yet, so no ratings. Cast a few votes first."),
    "arena.bad_method": ("未知的评分方法“{method}”：可选 elo 或 bt。", "Unknown rating method '{method}': use elo or bt."),
    "arena.bad_db": ("投票数据库 {path} 无法打开：{why}", "The vote database {path} cannot be opened: {why}"),
    "arena.bad_contestant": ("参赛者“{spec}”无效：{why}", "Contestant '{spec}' is not valid: {why}"),
    "arena.need_two": (
        "至少需要两个参赛者才能对战（现在有 {n} 个）。",
        "A battle needs at least two contestants (there are {n}).",
    ),
    "arena.same_pair": ("请选择两个不同的参赛者。", "Pick two different contestants."),
    "arena.no_battle": ("还没有对战：先输入问题并点“开战”。", "There is no battle yet: type a prompt and press Battle."),
    "arena.already_voted": ("这场对战已经投过票了，请开始新的一场。", "This battle already has your vote; start a new one."),
    "arena.not_finished": ("两边还没回答完，等回答结束再投票。", "The answers are not finished yet; vote when both are done."),
    "arena.no_text": ("没有可用的文本：{what}", "No text to use: {what}"),
    "arena.text_too_short": (
        "文本太短：至少需要 2 个 token 才能计算困惑度。",
        "The text is too short: perplexity needs at least 2 tokens.",
    ),
    "arena.bad_mc": ("选择题文件第 {line} 题有误：{why}", "Question {line} of the multiple-choice file is invalid: {why}"),
    "arena.not_lm": (
        "“{name}”不能计算语言模型概率（嵌入模型或 API 模型）；请选择本机的对话或基座模型。",
        "'{name}' has no language-model probabilities (an embedding or API model); pick a local chat or base model.",
    ),
    "arena.judge_none": (
        "没有需要评判的对战：先用两个参赛者生成回答。",
        "There is nothing for the judge to do: no battles with two answers.",
    ),
}
