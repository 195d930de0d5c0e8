"""Running metanet in fresh processes and in-process CLI calls, shared by the tests that compare them."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """``metanet ARGV`` in this process: ``(exit code, stdout, stderr)``; argparse's exits are codes, anything else
    raised gets the command line as a note."""
    from metanet.cli import main

    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as e:  # argparse: --help (0) or a usage error (2)
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    except BaseException as e:
        e.add_note(f"metanet {' '.join(map(repr, argv))}")
        raise
    out, err = capsys.readouterr()
    return code, out, err


def _strict_json(text: str):
    """``json.loads`` that refuses NaN/Infinity/-Infinity, which are not JSON (RFC 8259; jq and browsers fail)."""

    def refuse(name):
        raise AssertionError(f"{name} in --json output:\n{text}")

    return json.loads(text, parse_constant=refuse)


#: source of ``digest(*objs)`` for worker scripts (``python -c``; needs hashlib and torch imported): a sha256 of
#: tensors, modules, dicts (wall-clock "seconds" keys left out), lists, bytes and dataclasses, else their repr
DIGEST = r'''
def digest(*objs):
    h = hashlib.sha256()
    def add(o):
        if isinstance(o, torch.Tensor):
            t = o.detach().cpu().contiguous(); h.update(f"{t.dtype}{tuple(t.shape)}".encode()); h.update(t.numpy().tobytes())
        elif isinstance(o, torch.nn.Module):
            add(o.state_dict())
        elif isinstance(o, dict):
            for k in sorted(o, key=str):
                if "seconds" not in str(k):  # wall-clock fields
                    h.update(str(k).encode()); add(o[k])
        elif isinstance(o, (list, tuple)):
            for v in o: add(v)
        elif isinstance(o, bytes):
            h.update(o)
        elif hasattr(o, "__dataclass_fields__"):
            add({k: getattr(o, k) for k in o.__dataclass_fields__})
        else:
            h.update(repr(o).encode())
    for o in objs: add(o)
    return h.hexdigest()
'''


def run_workers(worker: str, jobs: list[tuple[str, dict[str, str], list[str]]], tmp: Path, tiny_zoo: Path,
                cwd: Path | None = None) -> list[Any]:
    """Run the script ``worker`` once per job ``(name, env, args)`` in fresh processes at the same time, each with
    ``env`` added to this environment and the path of a JSON file to write as its first argument; their JSON."""
    procs = []
    for name, extra, args in jobs:
        env = {**os.environ, **extra, "METANET_TINY_ZOO": str(tiny_zoo),
               "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        out = tmp / f"{name}.json"
        procs.append((out, subprocess.Popen([sys.executable, "-c", worker, str(out), *args], env=env, cwd=cwd,
                                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    results = []
    for out, p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-3000:]
        results.append(json.loads(out.read_text()))
    return results


def committed_units(db: Path, poll: bool = True) -> int:
    """Units committed to a zoo's index ``db``. While polling a live build: read-only and never waiting (0 before
    the index or its tables exist). After a kill: a normal connection, which rolls back a transaction the killed
    process left half-done (its hot journal)."""
    if not poll:
        con = sqlite3.connect(str(db), timeout=10)
        try:
            return con.execute("SELECT COUNT(*) FROM units").fetchone()[0]
        finally:
            con.close()
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.2)
        try:
            return con.execute("SELECT COUNT(*) FROM units").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def in_child(fn) -> str:
    """``fn()``'s repr computed in a forked child (or its error's), as a string."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        try:
            out = repr(fn())
        except BaseException as e:  # noqa: BLE001 (reported to the parent)
            out = f"{type(e).__name__}: {e}"
        os.write(w, out.encode()[:60000])
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        out = f.read().decode()
    os.waitpid(pid, 0)
    return out
