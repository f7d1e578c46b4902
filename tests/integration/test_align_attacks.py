"""The alignment loop's endpoints against a hostile student, replayed through raw HTTP (Gradio's queue
protocol, test_classroom_attacks' helpers): Bob names Ann's run to score with "her reward model" and is
refused as for a run that does not exist; "download preference pairs" gives each student the pairs of
her own votes only, as a JSONL file the DPO trainer reads."""
from __future__ import annotations

import json
from pathlib import Path

from apps.arena.store import Vote, VoteStore, default_db_path
from apps.auth import Auth
from apps.finetune import data
from tests.integration.test_classroom_attacks import as_, lab, said  # noqa: F401 (lab: the module fixture)
from tests.integration.test_deploy_export_attacks import finished_run

CHAT = [{"role": "user", "content": [{"type": "text", "text": "Say hi."}]},  # Gradio 6's chat messages
        {"role": "assistant", "content": [{"type": "text", "text": "Hi!"}]}]


def test_reward_scores_and_preference_pairs_are_each_users_own(lab, tmp_path, monkeypatch):  # noqa: F811
    ann, bob = as_(lab, "ann"), as_(lab, "bob")
    auth = Auth("classroom", store=lab["store"], secret=b"x" * 32)
    ann_user, bob_user = auth.user(ann.config()["username"]), auth.user(bob.config()["username"])
    run_id = finished_run(Path(lab["env"]["LLMLAB_RUNS"]), ann_user.id, "ann-judge")

    ok, out = bob.call(bob.dep("pg-reward-run"), [run_id, CHAT, "en"])
    assert not ok and out == said("finetune.no_run", run_id=run_id)
    ok, out = ann.call(ann.dep("pg-reward-run"), [run_id, CHAT, "en"])  # hers, but a chat adapter, not a reward model
    assert not ok and out == said("align.no_reward_model", path=run_id)
    ok, out = ann.call(ann.dep("pg-reward-run"), [None, CHAT, "en"])
    assert not ok and out == said("align.pick_reward")

    monkeypatch.setenv("LLMLAB_ARENA_DB", str(tmp_path / "arena.db"))  # the live arena (this process) follows it
    store = VoteStore(default_db_path())
    for n, (who, winner) in enumerate([(ann_user, "model_a"), (ann_user, "tie"), (bob_user, "model_b")]):
        store.add(Vote(model_a="m1", model_b="m2", winner=winner, prompt=f"{who.name} asks {n}",
                       response_a=f"A{n}", response_b=f"B{n}", session=who.id, source="human", tstamp=1000.0 + n))
    ok, out = ann.call(ann.dep("arena-io-prefs"), ["en"])
    assert ok, out
    status, file = out[0], out[1]
    assert status.startswith("1 个偏好对") and "平局 1" in status  # the lab speaks zh until a page switches
    got = ann.http.get(f"/gradio_api/file={file['path']}")
    assert got.status_code == 200
    rows = [json.loads(line) for line in got.text.splitlines()]
    assert rows == [{"prompt": f"{ann_user.name} asks 0", "chosen": "A0", "rejected": "B0"}]  # nothing of Bob's
    local = Path(file["path"])
    assert len(data.load(str(local), "dpo").pairs) == 1  # the DPO trainer's own reader takes it as it is
