"""A reward model trained with objective "reward" (apps.finetune.train → apps.align.reward, trl's
RewardTrainer) on planted preferences (polite replies chosen over rude ones) beats chance on held-out
pairs and on new ones, and reloads as a scorer.

The test trains all-MiniLM-L6-v2 (22M parameters) with a scalar head: SmolLM2-135M takes ~20 CPU-s
per step of 4 pairs (6x the weights, plus its ~30-token default system prompt), too slow for CI;
the code path is the same for every lab model.
"""
import json
import random

import pytest

from apps.align import reward
from apps.auth.users import LOCAL, User
from apps.errors import LabError
from apps.finetune import progress, runs, train
from apps.finetune.config import RunConfig

TOPICS = ["fractions", "the water cycle", "photosynthesis", "a bike tyre", "my resume", "a birthday card",
          "Python loops", "the French revolution", "a cake recipe", "my garden", "prime numbers", "a job interview",
          "the moon phases", "a chess opening", "my budget", "a poem", "gravity", "a lost password", "my essay",
          "a science fair"]
ASK = ["Can you help me with {t}?", "Please explain {t}.", "I need advice about {t}.", "Tell me about {t}."]
POLITE = ["Of course, I'd be glad to help with {t}. Thank you for asking!",
          "Sure! Happy to explain {t}, thanks for the question.",
          "Thank you for asking about {t}. Here is a friendly overview."]
RUDE = ["No. Figure out {t} yourself, idiot.", "Ugh, {t} is boring. Stop bothering me.",
        "Whatever. {t} is your problem, not mine."]


def planted(path, seed=0):
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as f:
        for t in TOPICS:
            for _ in range(2):
                f.write(json.dumps({"prompt": rng.choice(ASK).format(t=t), "chosen": rng.choice(POLITE).format(t=t),
                                    "rejected": rng.choice(RUDE).format(t=t)}) + "\n")
    return str(path)


def test_reward_model_learns_planted_preferences(tmp_path):
    cfg = RunConfig(model="all-minilm-l6-v2", method="lora", objective="reward", data=planted(tmp_path / "p.jsonl"),
                    max_steps=8, batch_size=4, grad_accum=1, learning_rate=2e-3, eval_fraction=0.25, eval_steps=100,
                    save_steps=100, max_length=64, device="cpu", output=str(tmp_path / "run"))
    status = train.main(cfg)
    folder = tmp_path / "run"
    assert status["state"] == "finished", (status.get("reason"), runs.log_tail(folder.name, tmp_path))
    final = status["final"]
    # 10 held-out pairs; an untrained head scores every reply ~0 (loss ln 2 = 0.693)
    assert final["eval_accuracy"] >= 0.9 and final["eval_loss"] < 0.6 and final["eval_margin"] > 0, final
    curve = progress.summary(progress.read(folder / "metrics.jsonl"))["curves"]["eval_accuracy"]
    assert curve and curve[-1] == (8, final["eval_accuracy"])  # the held-out accuracy, as a curve
    assert (folder / "reward" / "adapter_config.json").is_file() and (folder / "run.yaml").is_file()
    assert runs.list_adapters(tmp_path) == []  # a scalar head is not a chat model for the Arena

    scorer = reward.load_scorer(folder)
    new = ["a tax form", "the solar system", "knitting"]
    prompts = [f"Can you help me with {t}?" for t in new]
    polite = scorer(prompts, [POLITE[0].format(t=t) for t in new])
    rude = scorer(prompts, [[{"role": "assistant", "content": RUDE[1].format(t=t)}] for t in new])  # trl's shape
    assert all(p > r for p, r in zip(polite, rude)), (polite, rude)
    one = reward.score(scorer, [{"role": "user", "content": prompts[0]}], POLITE[0].format(t=new[0]))
    assert abs(one - polite[0]) < 1e-4

    # a web user reaches a reward run by id, and only one they may see (this run's owner is the machine's)
    assert [r["run_id"] for r in reward.reward_runs(LOCAL, tmp_path)] == ["run"]
    assert reward.scorer_for_run("run", LOCAL, tmp_path)(prompts[:1], [RUDE[0]])[0] < polite[0]
    student = User("c1-u1", "Ann", "student", 1)
    assert reward.reward_runs(student, tmp_path) == []
    with pytest.raises(LabError):
        reward.scorer_for_run("run", student, tmp_path)
