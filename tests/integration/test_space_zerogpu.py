"""ZeroGPU's per-call path (apps/space/zerogpu.py): what runs inside the lent call is the lab's own
generation on the worker's copy of the model, so its greedy reply equals the shared engine's; the
time asked of the visitor's quota follows the reply's length; a spent quota gives a CPU reply that
says so once; the Space says what runs on a lent GPU. Only the outside `spaces` package is faked."""
import pytest

from apps.models.generation import GenerationConfig, collect, generate, start
from apps.space import mode, zerogpu


@pytest.fixture
def worker_state(monkeypatch):
    monkeypatch.setattr(zerogpu, "_IN_WORKER", False)
    monkeypatch.setattr(zerogpu, "_ON_GPU", {})
    yield


def test_the_lent_call_generates_what_the_shared_engine_does(smollm, worker_state):
    cfg = GenerationConfig(do_sample=False, max_new_tokens=12)
    prompt = [{"role": "user", "content": "Name a colour."}]
    assert not zerogpu.active()  # not on ZeroGPU: everything stays on the shared engine
    lent = collect(zerogpu.run_in_worker(smollm.name, prompt, cfg))
    shared = generate(smollm, prompt, cfg)
    assert [t.id for t in lent.tokens] == [t.id for t in shared.tokens] and lent.text == shared.text
    worker_copy = zerogpu._ON_GPU[smollm.name]
    assert worker_copy.model is smollm.model and worker_copy.engine is not smollm.engine  # its own engine


def test_quota_time_follows_the_reply_length():
    short = zerogpu.duration("m", "hi", GenerationConfig(max_new_tokens=16))
    long = zerogpu.duration("m", "hi", GenerationConfig(max_new_tokens=512))
    beams = zerogpu.duration("m", "hi", GenerationConfig(max_new_tokens=64, num_beams=4, do_sample=False))
    assert 15 <= short < long <= 120 and beams > zerogpu.duration("m", "hi", GenerationConfig(max_new_tokens=64))


def test_a_zerogpu_space_says_what_borrows_a_gpu(monkeypatch, tmp_path):
    from spaces.config import Config  # the spaces package's own switch (SPACES_ZERO_GPU on a Space)

    monkeypatch.setattr(Config, "zero_gpu", True)
    keys = mode.notices({"SPACE_ID": "me/lab", "LLMLAB_HOME": str(tmp_path), "LLMLAB_DURABLE": "1"})
    assert "space.zerogpu_training" in keys and "space.cpu_only" not in keys


@pytest.fixture
def spent_quota(zerogpu_quota_spent, monkeypatch, worker_state):
    monkeypatch.setattr(zerogpu, "_lent", zerogpu.lend())  # declared again under the refusing `spaces`


def test_a_spent_quota_replies_from_cpu_and_says_so_once(smollm, spent_quota):
    cfg = GenerationConfig(do_sample=False, max_new_tokens=10)
    prompt = [{"role": "user", "content": "Name a fruit."}]
    cpu = generate(smollm, prompt, cfg)  # plain callers (generate, /v1, Arena, RAG) see only the reply
    events = list(start(smollm, prompt, cfg).events())
    notices = [e for e in events if isinstance(e, zerogpu.OnCpu)]
    assert events[0] == zerogpu.OnCpu() and len(notices) == 1  # before the first token, once per reply
    assert events[-1].result.text == cpu.text and cpu.tokens and all(hasattr(e, "text") for e in events[1:])
    from apps.i18n import t

    zh, en = t(notices[0].key, "zh"), t(notices[0].key, "en")
    assert "CPU" in zh and "额度" in zh and "quota" in en and zh != en
