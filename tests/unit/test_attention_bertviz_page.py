"""bertviz pages load their JavaScript from the lab, never a CDN, and stay within their budget."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from apps.attention import assets, bertviz_page, web
from apps.errors import LabError


def attn(layers=30, heads=9, tokens=12):
    a = np.random.default_rng(0).random((layers, heads, tokens, tokens))
    return (a / a.sum(-1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("view", bertviz_page.VIEWS)
def test_page_uses_local_scripts_only(view):
    doc = bertviz_page.page(attn(), [f"t{i}" for i in range(12)], view, first_layer=3)
    assert not [host for host in {urlsplit(u).hostname for u in bertviz_page._CDN} if host in doc]  # bertviz's own script host
    assert re.findall(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", doc) == []  # no remote script or link
    assert re.findall(r"""["']https?://""", doc) == []  # no quoted remote URL (comments may cite sources)
    assert 'src="attention/vendor/require.js"' in doc
    assert "'attention/vendor/d3.min'" in doc and "'attention/vendor/jquery.min'" in doc


def test_localize_refuses_leftover_remote_urls():
    with pytest.raises(LabError):
        bertviz_page.localize('<script src="https://scripts.example.org/x.js"></script>')


def test_paging_keeps_pages_small():
    per = bertviz_page.layers_per_page(30, 9, 40)
    assert per * 9 * 40 * 40 <= bertviz_page.CELL_BUDGET and per >= 1
    assert bertviz_page.layers_per_page(6, 12, 10) == 6  # small models fit on one page
    assert bertviz_page.page_layers(30, 9, 40, first=29) == list(range(30 - per, 30))  # clamped
    with pytest.raises(LabError):
        bertviz_page.page(attn(2, 2, bertviz_page.BERTVIZ_MAX_TOKENS + 1), ["x"] * 97)


def test_vendor_files_are_installed_and_served():
    assert assets.present(), "run `python -m apps.attention.assets fetch` (make install does)"
    assert assets.fetch(quiet=True) == []  # idempotent: nothing to do when present
    app = FastAPI()
    web.mount(app)
    client = TestClient(app)
    for asset in assets.ASSETS:
        response = client.get(f"/{assets.URL_PREFIX}/{asset.name}")
        assert response.status_code == 200 and len(response.content) > 10_000


def test_altered_file_is_detected(tmp_path):
    (tmp_path / "d3.min.js").write_text("not d3")
    assert not assets.present(tmp_path)
