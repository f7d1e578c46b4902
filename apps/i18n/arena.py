"""Strings of the eval arena tab (apps/arena), zh and en side by side."""

STRINGS = {
    "arena.tab": ("⑦ 评测竞技场", "⑦ Eval arena"),
    # battle
    "arena.intro": (
        "### 模型竞技场\n两个模型回答同一个问题，你来投票：哪边更好？匿名模式下投票后才揭晓身份，这样评分不受名气影响。"
        "票数多了，用 Elo 和 Bradley-Terry 算出排行榜；下面还有困惑度和选择题两种自动评测。",
        "### Eval arena\nTwo models answer the same prompt and you vote for the better one. In anonymous mode their names "
        "are revealed only after your vote, so fame cannot sway it. Votes become a leaderboard (Elo and Bradley-Terry); "
        "perplexity and a multiple-choice benchmark give automatic scores too.",
    ),
    "arena.battle_tab": ("对战投票", "Battle"),
    "arena.mode": ("模式", "Mode"),
    "arena.mode.anony": ("匿名（随机两位参赛者）", "Anonymous (two random contestants)"),
    "arena.mode.named": ("指定（自己选两位）", "Named (pick both)"),
    "arena.model_a": ("参赛者 A", "Contestant A"),
    "arena.model_b": ("参赛者 B", "Contestant B"),
    "arena.prompt": ("问题", "Prompt"),
    "arena.prompt.placeholder": ("输入一个问题，两位参赛者会同时作答……", "Type a prompt; both contestants answer it at once…"),
    "arena.max_new_tokens": ("最多生成的 token 数", "Max new tokens"),
    "arena.start": ("开战", "Battle"),
    "arena.stop": ("停止", "Stop"),
    "arena.resp_a": ("模型 A 的回答", "Model A's answer"),
    "arena.resp_b": ("模型 B 的回答", "Model B's answer"),
    "arena.vote_a": ("← A 更好", "← A is better"),
    "arena.vote_b": ("B 更好 →", "B is better →"),
    "arena.vote_tie": ("= 平局", "= Tie"),
    "arena.vote_bad": ("× 都不好", "× Both are bad"),
    "arena.battle_blind": ("匿名对战：名字在投票后揭晓。", "Anonymous battle: names are revealed after your vote."),
    "arena.battle_named": ("指定对战：A = {a}，B = {b}。", "Named battle: A = {a}, B = {b}."),
    "arena.now_vote": ("回答完毕，请投票。", "Both answers are in: vote now."),
    "arena.revealed": (
        "✓ 已记录你的投票（{choice}）。A 是 **{a}**，B 是 **{b}**。竞技场共有 {votes}。",
        "✓ Your vote ({choice}) is saved. A was **{a}**, B was **{b}**. The arena has {votes}.",
    ),
    "arena.pool_acc": ("参赛者名单（全班共享）", "Contestants (shared by the whole class)"),
    "arena.pool": ("参赛者，每行一个", "Contestants, one per line"),
    "arena.pool.info": (
        "模型名；模型@解码设置（如 @balanced、@temperature=0.7）；模型+适配器文件夹；api:服务商/模型。修改会影响所有人的匿名对战。",
        "model; model@decoding (e.g. @balanced, @temperature=0.7); model+adapter folder; api:provider/model. "
        "Changes apply to everyone's anonymous battles.",
    ),
    "arena.pool_apply": ("更新名单", "Update the list"),
    "arena.pool_set": ("名单已更新：{n} 位参赛者。", "The list now has {n} {n:plural:contestant|contestants}."),
    "arena.api_key": ("API 密钥（只用于 api: 参赛者，只保存在本次会话）", "API key (for api: contestants; kept in this session only)"),
    # leaderboard
    "arena.lb_tab": ("排行榜", "Leaderboard"),
    "arena.lb_source": ("哪些投票", "Which votes"),
    "arena.source.all": ("全部", "All"),
    "arena.source.human": ("人工", "Human"),
    "arena.source.judge": ("AI 裁判", "LLM judge"),
    "arena.source.import": ("导入", "Imported"),
    "arena.lb_method": ("评分方法", "Rating method"),
    "arena.lb_bootstrap": ("自助法轮数（置信区间）", "Bootstrap rounds (confidence intervals)"),
    "arena.lb_k": ("Elo 的 K 值", "Elo K factor"),
    "arena.lb_k.info": ("每次“意外”移动多少分；票少时用 16–32", "Points moved per surprise; 16–32 for few votes"),
    "arena.lb_refresh": ("计算排行榜", "Compute the leaderboard"),
    "arena.lb_fitting": ("正在拟合评分……", "Fitting ratings…"),
    "arena.lb_summary": (
        "**{votes}**，**{m}** 位参赛者，**{voters}** 位投票人（人工 {human}，AI 裁判 {judge}，导入 {imported}）。"
        "排名 = 1 + 置信区间整体高于自己的参赛者数。",
        "**{votes}**, **{m}** {m:plural:contestant|contestants}, **{voters}** {voters:plural:voter|voters} (human {human}, judge {judge}, imported {imported}). "
        "Rank = 1 + the number of contestants whose whole interval lies above this one's.",
    ),
    "arena.lb_table": ("排行榜", "Leaderboard"),
    "arena.lb_note": (
        "**怎么读这张表**：Bradley-Terry 一次拟合全部投票，并带一个先验：投票之前，认为每个模型的评分在 1000 附近，"
        "标准差 {sd} 分（95% 在 1000±{sd2} 以内），所以几票不会得出离谱的分数。区间是 95% 置信区间（自助法；票少时至少取"
        "海森矩阵给出的宽度）。Elo 与它用同一刻度（高 400 分 ≈ 10 倍胜算），但按投票顺序每票最多移动 K 分："
        "票少时 Elo 几乎停在 1000，票多时两者接近。参赛者不足 {need} 票时不排名，显示“票数不足”。",
        "**How to read this**: Bradley-Terry fits all votes at once under a prior: before any vote each model's "
        "rating is believed to be near 1000 with a standard deviation of {sd} points (95% within 1000±{sd2}), so a few "
        "votes cannot give absurd ratings. Intervals are 95% (bootstrap; with few votes at least as wide as the "
        "Hessian's). Elo uses the same scale (+400 ≈ 10× the odds) but moves at most K points per vote, in vote "
        "order: with few votes it stays near 1000, with many it lands close to Bradley-Terry. A contestant with "
        "fewer than {need} votes gets no rank (\"not enough votes yet\").",
    ),
    "arena.lb_few": ("票数不足（{n}/{need}）", "not enough votes yet ({n}/{need})"),
    "arena.n_votes": ("{n} 票", "{n} {n:plural:vote|votes}"),
    "arena.method.bt": ("Bradley-Terry（先验 σ={sd}）", "Bradley-Terry (prior σ={sd})"),
    "arena.method.elo": ("Elo（K={k}）", "Elo (K={k})"),
    "arena.col.rank": ("排名", "Rank"),
    "arena.col.model": ("参赛者", "Contestant"),
    "arena.col.rating": ("评分", "Rating"),
    "arena.col.ci": ("95% 区间", "95% interval"),
    "arena.col.other": ("另一种评分", "Other rating"),
    "arena.col.votes": ("票数", "Votes"),
    "arena.col.wins": ("胜", "Wins"),
    "arena.col.ties": ("平", "Ties"),
    "arena.col.losses": ("负", "Losses"),
    "arena.col.tstamp": ("时间", "Time"),
    "arena.col.source": ("来源", "Source"),
    "arena.col.model_a": ("参赛者 A", "Contestant A"),
    "arena.col.model_b": ("参赛者 B", "Contestant B"),
    "arena.col.winner": ("结果", "Verdict"),
    "arena.col.prompt": ("问题", "Prompt"),
    "arena.winner.a": ("A 更好", "A is better"),
    "arena.winner.b": ("B 更好", "B is better"),
    "arena.winner.tie": ("平局", "Tie"),
    "arena.winner.bothbad": ("都不好", "Both bad"),
    "arena.tuned_choice": ("微调：{label}（{base}）", "Fine-tuned: {label} ({base})"),
    "arena.lb_plot": ("评分与 95% 置信区间", "Ratings with 95% intervals"),
    "arena.lb_winrate": ("胜率矩阵", "Win-rate matrix"),
    "arena.lb_counts": ("对战次数矩阵", "Battle-count matrix"),
    "arena.plot.rating": ("评分（Elo 刻度：高 400 分 ≈ 10 倍胜算）", "Rating (Elo scale: +400 ≈ 10× the odds)"),
    "arena.plot.winrate": ("A 对 B 的胜率（平局算半场）", "A's win rate against B (ties = ½)"),
    "arena.plot.counts": ("A 与 B 的对战次数", "Battles between A and B"),
    "arena.plot.model_a": ("模型 A", "Model A"),
    "arena.plot.model_b": ("模型 B", "Model B"),
    "arena.plot.token": ("token 位置", "Token position"),
    "arena.plot.loss": ("损失（nats，16 个 token 平滑）", "Loss (nats, 16-token moving average)"),
    # automatic evals
    "arena.ev_tab": ("自动评测", "Automatic evals"),
    "arena.ev_intro": (
        "**困惑度** = exp(平均 token 损失)，在团队自写、模型没见过的文本上计算；分词不同的模型请比较“每字节比特数”。"
        "**选择题** 像 lm-evaluation-harness 一样按对数似然打分：acc 取总对数概率最大的选项，acc_norm 先除以选项的字符数"
        "（与 harness 的定义相同：len(选项)，按字符而非字节计，一个汉字算 1）。",
        "**Perplexity** = exp(mean token loss) on team-written text no model has seen; compare models with different "
        "tokenizers by bits per byte. **Multiple choice** is scored by log-likelihood as in lm-evaluation-harness: acc "
        "picks the choice with the highest summed log-probability, acc_norm divides it by the choice's length in characters "
        "first (lm-evaluation-harness's definition: len(choice), characters not bytes, so a Chinese character counts 1).",
    ),
    "arena.ev_models": ("模型（本机）", "Models (local)"),
    "arena.ev_lang": ("评测语言", "Eval language"),
    "arena.ev_limit": ("选择题数量", "Number of questions"),
    "arena.ev_ppl": ("计算困惑度", "Compute perplexity"),
    "arena.ev_mc": ("做选择题", "Run multiple choice"),
    "arena.ev_pick": ("请至少选择一个模型。", "Pick at least one model."),
    "arena.ev_ppl_table": ("困惑度与平均损失", "Perplexity and mean loss"),
    "arena.ev_plot": ("每个 token 的损失", "Loss of each token"),
    "arena.ev_mc_table": ("选择题准确率", "Multiple-choice accuracy"),
    # vote files and judge
    "arena.io_tab": ("投票数据与 AI 裁判", "Votes and judge"),
    "arena.io_upload": ("投票文件（Chatbot Arena 格式 JSONL / JSON）", "Vote file (Chatbot Arena format, JSONL / JSON)"),
    "arena.io_import": ("导入", "Import"),
    "arena.io_export": ("导出全部投票", "Export all votes"),
    "arena.io_prefs": ("下载偏好对（JSONL，用于 DPO / 奖励模型）", "Download preference pairs (JSONL, for DPO / a reward model)"),
    "arena.io_file": ("导出的文件", "Exported file"),
    "arena.io_need_file": ("请先选择一个投票文件。", "Choose a vote file first."),
    "arena.io_imported": (
        "导入 {added}（{skipped} 已存在，未重复添加）。现在共 {total}。",
        "Imported {added} ({skipped} already there, not added again). {total} in all.",
    ),
    "arena.io_exported": ("已导出 {votes}。", "Exported {votes}."),
    "arena.io_recent": ("最近的投票", "Latest votes"),
    "arena.jd_acc": ("AI 裁判（LLM-as-judge）", "LLM as judge"),
    "arena.jd_intro": (
        "裁判模型读问题和两个回答，给出 [[A]]、[[B]] 或 [[C]]（平局）。默认交换顺序再问一次，两次不一致记为平局（减少位置偏差）；"
        "任一次没有给出可解析的结论，这场就算未决，不计票。"
        "裁判的票单独标记，排行榜可以只看人工票或只看裁判票。",
        "The judge reads the prompt and both answers and replies [[A]], [[B]] or [[C]] (tie). It is asked again with the "
        "answers swapped; verdicts that disagree become a tie (less position bias), and a battle where either order "
        "gives no parsable verdict stays undecided and is not stored. Judge votes are marked as such, so "
        "the leaderboard can show human and judge votes apart.",
    ),
    "arena.jd_provider": ("裁判服务商", "Judge provider"),
    "arena.jd_model": ("裁判模型（空 = 默认）", "Judge model (empty = the provider's default)"),
    "arena.jd_base_url": ("Base URL（可选）", "Base URL (optional)"),
    "arena.jd_key": ("裁判的 API 密钥（只在本次会话）", "Judge API key (this session only)"),
    "arena.jd_prompts": ("问题，每行一个", "Prompts, one per line"),
    "arena.jd_run": ("让裁判评判", "Let the judge vote"),
    "arena.jd_done": (
        "{judge}：存入 {stored}（其中 {inconsistent} 场两次顺序结论不一致，记为平局）；{unparsed} 场未决、未计票"
        "（第一次无结论 {first}，交换顺序后无结论 {swapped}，两次都无 {both}）。与人工投票的一致率：{agree}。",
        "{judge}: {stored} stored ({inconsistent} of them inconsistent between the two orders, stored as ties); "
        "{unparsed} undecided and not stored (no parsable verdict: first order {first}, swapped order {swapped}, "
        "both {both}). Agreement with human votes: {agree}.",
    ),
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
        "A battle needs at least two contestants (there {n:plural:is|are} {n}).",
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
    "arena.not_in_pool": ("只能选本班参赛池里的模型：{names}", "Pick contestants from your class's pool: {names}"),
}
