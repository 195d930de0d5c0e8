"""Helpers shared by the zoo tests (a uniquely named module: ``conftest`` names collide across test folders)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from metanet.zoo.store import DETERMINISTIC_COLUMNS

ROOT = Path(__file__).resolve().parents[2]


def subprocess_env() -> dict[str, str]:
    """Environment for ``python -m metanet`` subprocesses: the checkout importable, one torch thread."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env["OMP_NUM_THREADS"] = "1"
    return env


def rows(path: Path) -> list[dict]:
    """A zoo's network rows, every column but ``created`` (the one that differs between two builds)."""
    con = sqlite3.connect(str(path / "index.sqlite"))
    con.row_factory = sqlite3.Row
    out = [{c: r[c] for c in DETERMINISTIC_COLUMNS} for r in con.execute("SELECT * FROM nets ORDER BY id")]
    con.close()
    return out


def shard_bytes(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((path / "shards").glob("*.safetensors"))}
