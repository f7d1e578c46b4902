"""Shared fixtures: each real model is loaded once per test session, from the one process cache."""
from __future__ import annotations

import os

import pytest
import torch

torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))


@pytest.fixture(scope="session")
def cache():
    from apps.models import default_cache

    return default_cache()


@pytest.fixture(scope="session")
def smollm(cache):
    return cache.get("smollm2-135m-instruct")


@pytest.fixture(scope="session")
def gemma(cache):
    return cache.get("gemma-3-270m")


@pytest.fixture(scope="session")
def minilm(cache):
    """all-MiniLM-L6-v2 as a sentence-transformers embedder."""
    return cache.get("all-minilm-l6-v2", variant="st")


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)
