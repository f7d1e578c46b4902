"""The load-test tool against the lab's own /v1 (served once per session), and its SSRF fence."""
from __future__ import annotations

import pytest

from apps.deploy.loadtest import LoadConfig, run, timeline_figure
from apps.errors import LabError


def test_concurrent_streams_against_the_lab(live_url):
    report = run(LoadConfig(base_url=f"{live_url}/v1", model="smollm2-135m-instruct", streams=4, max_tokens=8))
    assert report["served"] == 4 and report["refused"] == 0 and report["failed"] == 0, report["errors"]
    assert report["tokens"] == sum(s["tokens"] for s in report["streams"]) and report["tokens"] >= 4
    assert report["aggregate_tok_s"] > 0 and 0 < report["ttft_p50_s"] <= report["ttft_p95_s"]
    for s in report["streams"]:
        assert s["start"] <= s["answered"] <= s["first_token"] <= s["end"]
    fig = timeline_figure(report, "zh")
    assert len(fig.axes[0].patches) >= 8  # a waiting and a generating bar per stream
    bad = run(LoadConfig(base_url=f"{live_url}/v1", model="no-such-model", streams=2, max_tokens=4))
    assert bad["failed"] == 2 and "404" in bad["errors"][0]


def test_classroom_refuses_internal_urls(monkeypatch):
    monkeypatch.setenv("LLMLAB_MODE", "classroom")
    from apps.security import policy

    policy.use(None)
    try:
        with pytest.raises(LabError) as err:
            run(LoadConfig(base_url="http://169.254.169.254/v1", model="m", streams=1))
        assert err.value.key.startswith("security.url_")
    finally:
        monkeypatch.delenv("LLMLAB_MODE")
        policy.use(None)
    with pytest.raises(LabError):
        run(LoadConfig(base_url="http://127.0.0.1:1/v1", model="m", streams=99))
