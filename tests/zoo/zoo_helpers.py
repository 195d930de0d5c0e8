"""Helpers shared by the zoo tests (a uniquely named module: ``conftest`` names collide across test folders)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def subprocess_env() -> dict[str, str]:
    """Environment for ``python -m metanet`` subprocesses: the checkout importable, one torch thread."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env["OMP_NUM_THREADS"] = "1"
    return env
