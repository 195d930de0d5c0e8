"""Bench test helpers: a bench script imported as a module."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_bench(name: str, monkeypatch, prefix: str = "bench_test"):
    """``bench/{name}.py`` as a fresh module (registered in ``sys.modules`` for the test only)."""
    spec = importlib.util.spec_from_file_location(f"{prefix}_{name}", ROOT / "bench" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, mod)  # dataclasses look their module up while it is executed
    spec.loader.exec_module(mod)
    return mod
