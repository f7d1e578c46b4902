"""ui.throttle: the interval between stream updates grows with the streams open server-wide."""
from types import SimpleNamespace

from apps import ui


def _chunks(n):
    return [SimpleNamespace(text=str(i), done=i == n - 1) for i in range(n)]


def _run(monkeypatch, others: int) -> list[str]:
    clock = iter(0.15 * i for i in range(1, 1000))  # a chunk every 0.15 s
    # ui's own view of time only: patching time.monotonic itself hands the fake clock to every thread
    # of the session (the live server's event loop drained it and made this test's teardown take 20 s)
    monkeypatch.setattr(ui, "time", SimpleNamespace(monotonic=lambda: next(clock)))
    for _ in range(others):
        ui.STREAMS.__enter__()
    try:
        return [c.text for c in ui.throttle(_chunks(9), every=0.1)]
    finally:
        for _ in range(others):
            ui.STREAMS.__exit__(None, None, None)


def test_few_streams_get_every_update(monkeypatch):
    assert _run(monkeypatch, 0) == [str(i) for i in range(9)]


def test_a_busy_server_sends_fewer_updates_but_always_the_last(monkeypatch):
    sent = _run(monkeypatch, 7)  # 8 open: the interval doubles to 0.2 s
    assert sent == ["0", "2", "4", "6", "8"]
    assert ui.STREAMS.open == 0
