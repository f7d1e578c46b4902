"""Fine-tuned runs as arena contestants: each user sees and may use their own (a teacher their
class's), under the name they typed; another user's run is refused as if it did not exist, by
`tuned:<id>` or by its adapter path, in lists, named battles and evals alike. No model is loaded."""
import json
import time

import pytest

from apps.arena import contestants as C
from apps.arena.battles import Arena
from apps.arena.store import VoteStore
from apps.auth.users import User
from apps.errors import LabError
from apps.finetune.config import RunConfig, save_yaml
from apps.finetune.runs import write_status

ANN = User(id="c1-u2", name="Ann", role="student", class_id=1)
BOB = User(id="c1-u3", name="Bob", role="student", class_id=1)
TEACHER = User(id="c1-u1", name="T", role="teacher", class_id=1)
OTHER_TEACHER = User(id="c2-u1", name="T2", role="teacher", class_id=2)


def run(root, run_id, owner, label, state="finished"):
    folder = root / run_id
    (folder / "adapter").mkdir(parents=True)
    save_yaml(RunConfig(model="smollm2-135m-instruct", label=label), folder / "run.yaml")
    (folder / "adapter" / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA"}))
    write_status(folder, state=state, owner=owner, created=time.time())
    return run_id


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "runs"
    run(root, "r-ann-1a2b", ANN.id, "poet")
    run(root, "r-bob-3c4d", BOB.id, "smollm2-135m-instruct")  # a label that tries to pass for the base
    run(root, "r-ann-busy", ANN.id, "unfinished", state="running")
    return root


def test_each_user_lists_their_own_finished_runs(root):
    assert C.tuned_choices(ANN, root) == [("poet", "smollm2-135m-instruct", "tuned:r-ann-1a2b")]
    assert [spec for *_, spec in C.tuned_choices(BOB, root)] == ["tuned:r-bob-3c4d"]
    assert sorted(spec for *_, spec in C.tuned_choices(TEACHER, root)) == ["tuned:r-ann-1a2b", "tuned:r-bob-3c4d"]
    assert C.tuned_choices(OTHER_TEACHER, root) == []


def test_names_keep_label_and_cannot_pass_for_a_registry_model(root):
    ann = C.resolve_tuned("tuned:r-ann-1a2b", ANN, root)
    assert ann.kind == C.ADAPTER and ann.name == "smollm2-135m-instruct+poet#1a2b"
    assert ann.adapter == str(root / "r-ann-1a2b" / "adapter")
    assert C.resolve_tuned("tuned:r-bob-3c4d", BOB, root).name == "smollm2-135m-instruct+smollm2-135m-instruct#3c4d"
    assert C.parse(ann.settings()).name == ann.name  # a stored vote keeps the name


def test_another_users_run_is_refused_every_way(root):
    for spec in ("tuned:r-ann-1a2b", "tuned:r-ann-busy", "tuned:../r-ann-1a2b", "tuned:nope"):
        with pytest.raises(LabError) as err:
            C.resolve_tuned(spec, BOB, root)
        assert err.value.key == "finetune.no_run"
    with pytest.raises(LabError):  # the adapter folder typed as a path
        C.for_user(f"smollm2-135m-instruct+{root / 'r-ann-1a2b' / 'adapter'}", BOB, root)
    assert C.for_user(f"smollm2-135m-instruct+{root / 'r-ann-1a2b' / 'adapter'}", ANN, root).kind == C.ADAPTER
    assert C.for_user("tuned:r-ann-1a2b", TEACHER, root).name.endswith("#1a2b")


def test_named_battle_with_a_tuned_run(root, tmp_path):
    arena = Arena(VoteStore(tmp_path / "v.db"), pool=["smollm2-135m-instruct", "smollm2-135m-instruct@creative"],
                  runs_root=root)
    battle = arena.new_battle("Hi", "smollm2-135m-instruct", "tuned:r-ann-1a2b", user=ANN)
    assert battle.b.name == "smollm2-135m-instruct+poet#1a2b" and battle.session == ANN.id
    with pytest.raises(LabError) as err:
        arena.new_battle("Hi", "smollm2-135m-instruct", "tuned:r-ann-1a2b", user=BOB)
    assert err.value.key == "finetune.no_run"
    with pytest.raises(LabError) as err:  # a student still cannot name a contestant outside the pool
        arena.new_battle("Hi", "gemma-3-270m", "tuned:r-ann-1a2b", user=ANN)
    assert err.value.key == "arena.not_in_pool"
