"""Fixtures of the tasks tests."""

from __future__ import annotations

import pytest

from metanet import tasks
from metanet.tasks import registry, sources


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """Empty task caches, no METANET_DATA, an empty ~/.cache/metanet; the real caches come back afterwards."""
    saved_tasks, saved_base = dict(registry._TASKS), dict(sources._CACHE)
    tasks.clear_cache()
    monkeypatch.delenv("METANET_DATA", raising=False)
    monkeypatch.setattr(sources, "CACHE_DIR", tmp_path / "home-cache")
    yield tmp_path
    tasks.clear_cache()
    registry._TASKS.update(saved_tasks)
    sources._CACHE.update(saved_base)
