"""A small zh/en thesaurus of LLM vocabulary, used to expand lexical queries.

Learners ask in their own words: "显卡" where the text says "GPU", "爆显存" where it says "OOM",
"低秩适配" where it says "LoRA". BM25 only matches surface tokens, so a query term from one of these
groups also searches for the other members, at a lower weight (see `rag.lexical.BM25.scores`).
Each line is one group of interchangeable terms; matching is on normalised text (NFKC, lowercase).
"""
from __future__ import annotations

import re

from rag.lexical import normalize

GROUPS_TEXT = """
llm|大模型|大语言模型|大规模语言模型|语言模型
rnn|循环神经网络|递归神经网络
lstm|长短期记忆
cnn|卷积神经网络|卷积
nlp|自然语言处理
cv|计算机视觉|视觉
gpu|显卡|算力卡
显存|vram|gpu内存
oom|显存不足|显存不够|爆显存|显存溢出|内存溢出|out of memory
lora|低秩适配|低秩适应|低秩矩阵|低秩
qlora|4-bit量化|4位量化
peft|参数高效微调|高效参数微调|高效微调
sft|监督微调|有监督微调
rlhf|人类反馈强化学习|基于人类反馈的强化学习|人类反馈
dpo|直接偏好优化|偏好优化
ppo|近端策略优化
全参数微调|全量微调|全微调|full fine-tuning|fft
微调|fine-tuning|finetune|fine-tune|精调
预训练|pretraining|pre-training|pretrain
推理|inference
token|词元|令牌|标记
分词|tokenizer|tokenization|标记化|分词器
embedding|嵌入|词向量|向量表示
注意力|attention
自注意力|self-attention
多头|multi-head
量化|quantization|低精度
困惑度|perplexity|ppl
上下文窗口|上下文长度|context window|context length|最大文本长度
键值缓存|kv cache|kv缓存
gqa|分组查询注意力
mqa|多查询注意力
位置编码|positional encoding|rope|旋转位置编码
rag|检索增强生成|检索增强
向量数据库|vector database|向量库
知识蒸馏|蒸馏|distillation
剪枝|pruning
过拟合|过度拟合|overfitting
正则化|regularization
激活函数|activation
梯度下降|gradient descent
反向传播|backpropagation
学习率|learning rate
batch size|批次大小|批大小|batch_size
评估|评测|评价|evaluation|eval
基准|benchmark|基准测试
排行榜|leaderboard|榜单
贪婪解码|greedy
波束搜索|束搜索|beam search
核采样|top-p|nucleus
推测性解码|推测解码|speculative decoding|投机解码
混合精度|mixed precision
分布式训练|distributed training|多卡训练
奖励模型|reward model
提示词|prompt|提示
提示工程|prompt engineering|提示词工程
指令微调|instruction tuning|指令调整
指令数据集|instruction dataset|指令数据
灾难性遗忘|catastrophic forgetting|遗忘
编码器|encoder
解码器|decoder
部署|deploy|deployment|上线|服务化
数据集|dataset|语料
幻觉|hallucination
对齐|alignment
多模态|multimodal
智能体|agent
涌现|emergent|涌现能力
缩放定律|缩放法则|scaling law
检查点|checkpoint
优化器|optimizer|优化算法|sgd|adam
参数量|参数规模|参数数量
激活函数|activation function|非线性函数|非线性变换|relu|sigmoid
损失函数|loss function|代价函数|目标函数
强化学习|rl
消费级显卡|消费级硬件|家用电脑|普通电脑|个人电脑|笔记本电脑|consumer hardware
知识蒸馏|teacher|student|教师模型|学生模型
安全|safety|有害|harmful|违法
数据清洗|清洗|过滤|去重|data cleaning
开源|open-source|open source
解码策略|解码方式|decoding|生成策略|采样策略
降维|dimensionality reduction
可视化|visualization
聊天机器人|chatbot|对话系统
半精度|fp16|bf16|half precision
并行|parallelism
泛化|generalization
摘要|summarization
翻译|translation
python|编程语言
书|书籍|book
课程|course|教程
论文|paper
代码|code
"""



def parse(text: str) -> list[list[str]]:
    """Groups from lines of "term|term|…" (normalised; "#" lines are comments), e.g. GROUPS_TEXT or a
    pinned copy of it."""
    return [[normalize(t.strip()) for t in line.split("|") if t.strip()]
            for line in text.strip().splitlines() if line.strip() and not line.lstrip().startswith("#")]


GROUPS: list[list[str]] = parse(GROUPS_TEXT)


def _contains(text: str, term: str) -> bool:
    """Chinese terms match anywhere; Latin ones as whole words ("rag" is not in "storage")."""
    if not term.isascii():
        return term in text
    return re.search(rf"(?<![a-z0-9]){re.escape(term)}(?![a-z0-9])", text) is not None


def expansions(query: str, groups: list[list[str]] | None = None) -> list[str]:
    """Terms to add to `query`: the other members of every group one of whose terms it contains."""
    text = normalize(query)
    extra: list[str] = []
    for group in GROUPS if groups is None else groups:
        if any(_contains(text, term) for term in group):
            extra.extend(t for t in group if not _contains(text, t) and t not in extra)
    return extra
