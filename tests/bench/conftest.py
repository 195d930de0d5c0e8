"""Fixtures of the bench tests."""

from __future__ import annotations

import pytest

from bench_helpers import load_bench


@pytest.fixture
def run_all(tmp_path, monkeypatch):
    """``bench/run_all.py`` writing its results and reading its JSON under ``tmp_path``, never the committed ones."""
    mod = load_bench("run_all", monkeypatch)
    monkeypatch.setattr(mod, "RESULTS", tmp_path / "results")
    (tmp_path / "results").mkdir()
    monkeypatch.setattr(mod, "BENCH", tmp_path)
    return mod
