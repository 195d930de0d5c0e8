"""Helpers shared by the zoo tests (a uniquely named module: ``conftest`` names collide across test folders)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from metanet.zoo.store import DETERMINISTIC_COLUMNS, Store

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


def _meta(zoo: Path) -> dict[str, str]:
    """The zoo's ``meta`` table (recipe, threads, data record, ...), through a Store closed again here."""
    with Store(zoo) as s:
        return s.meta()


def open_read_only(zoo: Path) -> str:
    """Open ``zoo`` with ``metanet.zoo.Zoo`` in a process that cannot write it (every file and folder made read-only;
    as root, which ignores modes, under setpriv without the capabilities that bypass them): ``"ZooError: ..."`` or
    what else it printed. The modes are given back afterwards."""
    if os.geteuid() != 0:
        python = [sys.executable]
    elif shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot make a directory read-only")
    else:
        python = [shutil.which("setpriv"), "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--",
                  sys.executable]
    code = ("import sys\nfrom metanet.zoo import Zoo\nfrom metanet.errors import ZooError\n"
            "try:\n    Zoo(sys.argv[1])\nexcept ZooError as e:\n    print('ZooError:', e)\n")
    modes = {p: p.stat().st_mode for p in [zoo, *zoo.rglob("*")]}
    for p in modes:
        p.chmod(p.stat().st_mode & ~0o222)
    try:
        out = subprocess.run([*python, "-c", code, str(zoo)], capture_output=True, text=True, timeout=120,
                             env=subprocess_env())
    finally:
        for p, m in modes.items():
            p.chmod(m)
    return out.stdout + out.stderr


def _copy(src: Path, dst: Path) -> Path:
    """A copy of the zoo ``src`` at ``dst`` (tests damage copies, never the session's zoo)."""
    shutil.copytree(src, dst)
    return dst


def _tree(path) -> list[str]:
    """Every file and folder under ``path``, relative to it, sorted."""
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))
