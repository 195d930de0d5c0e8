"""``metanet.cli.main`` when only stderr is a pipe whose reader has gone: it stops quietly (exit code 141) and leaves
stdout alone. The usage message into a closed stderr is turned into 141 as a closed stdout is, but the quiet stop
pointed stdout at /dev/null whatever it was: a working stdout was silenced for good (a program calling main() printed
nothing more) and a StringIO one (no file descriptor) raised io.UnsupportedOperation."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

from metanet.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _closed_pipe() -> int:
    """The write end of a pipe whose read end is closed: writing to it is EPIPE (BrokenPipeError)."""
    r, w = os.pipe()
    os.close(r)
    return w


def test_a_closed_stderr_with_a_stringio_stdout_stops_quietly(monkeypatch):
    err = os.fdopen(_closed_pipe(), "w")
    out = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    try:
        with contextlib.redirect_stdout(out):
            code = main(["--no-such-flag"])  # a usage error: its message goes to the closed stderr
    finally:
        monkeypatch.undo()
        err.close()
    assert code == 141
    assert out.getvalue() == ""


def test_a_closed_stderr_leaves_a_working_stdout_working(tmp_path):
    # an error line ("metanet: error: ... missing.safetensors ...") into the closed stderr
    code = ("from metanet.cli import main\ncode = main(['verify', 'missing.safetensors', '--task', 'digits'])\n"
            "print('printed after main:', code)\n")
    w = _closed_pipe()
    try:
        with open(tmp_path / "out.txt", "w") as out:
            done = subprocess.run([sys.executable, "-c", code], stdout=out, stderr=w, cwd=tmp_path, timeout=120,
                                  env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"})
    finally:
        os.close(w)
    assert done.returncode == 0
    assert (tmp_path / "out.txt").read_text() == "printed after main: 141\n"
