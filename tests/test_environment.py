"""The ``metanet`` command under unusual environments, in real processes: stdout or stderr closed (``>&-``,
``2>&-``), a working directory that was deleted, the C locale without UTF-8 mode (``PYTHONUTF8=0``)."""

from __future__ import annotations

import codecs
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from metanet.io import save
from metanet.nets import build


@pytest.fixture(scope="module")
def net(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("env") / "net.safetensors"
    save(build("mlp:64-8-10:relu"), path)
    return path


def _metanet(args: list[str], *, env: dict[str, str | None] | None = None, cwd: Path | None = None,
             preexec_fn=None) -> subprocess.CompletedProcess:
    """``python -m metanet ARGS`` in a fresh process, ``env`` added to this environment (None: removed); stdout and
    stderr as bytes (they need not be UTF-8)."""
    full_env = {k: v for k, v in {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}.items() if v is not None}
    return subprocess.run([sys.executable, "-m", "metanet", *args], env=full_env, cwd=cwd, preexec_fn=preexec_fn,
                          capture_output=True, timeout=300)


def _close(fd: int):
    return lambda: os.close(fd)


def test_a_command_started_with_stdout_closed_is_not_a_traceback(net):
    # `metanet graph net >&-`: sys.stdout is None, print() writes nothing, and the flush after the command was an
    # AttributeError traceback with exit code 1
    r = _metanet(["graph", str(net)], preexec_fn=_close(1))
    assert r.returncode == 0 and b"Traceback" not in r.stderr, r.stderr.decode(errors="replace")[-2000:]


def test_a_train_usage_error_with_stderr_closed_is_exit_2(tmp_path):
    # `metanet train --bogus 2>&-`: sys.stderr is None; its one-line error was sys.stderr.write, an AttributeError
    # (exit 1, no message at all). print(file=None) writes to stdout, as every other metanet error does then
    r = _metanet(["train", "--bogus"], preexec_fn=_close(2))
    assert r.returncode == 2, r.stdout.decode(errors="replace")[-2000:]
    assert b"metanet train: error: unrecognized arguments: --bogus" in r.stdout


def test_a_deleted_working_directory_is_one_clear_line(tmp_path, net):
    # `cd dir && rm -rf ../dir && metanet ...`: PyTorch failed to load with MKL's "Cannot load libtorch_cpu.so",
    # which reads like a broken installation
    gone = tmp_path / "gone"
    gone.mkdir()
    r = _metanet(["graph", str(net)], cwd=gone, preexec_fn=lambda: os.rmdir(gone))
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 2
    assert err.strip() == ("metanet: error: the working directory no longer exists (deleted); cd into an existing "
                           "directory"), err[-2000:]


def test_c_locale_without_utf8_mode_prints_non_ascii_text_and_keeps_file_name_bytes(tmp_path, net):
    # LC_ALL=C PYTHONUTF8=0: stdout is ASCII with Python's surrogateescape, which the '?' replacement skipped, so
    # `metanet inspect` stopped with a UnicodeEncodeError at the first "—" of its summary, after its work
    out = tmp_path / "répertoire"
    r = _metanet(["inspect", str(net), "--task", "digits", "--out", str(out), "--no-pictures", "--no-reader"],
                 env={"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": None})
    assert r.returncode == 0 and b"Traceback" not in r.stderr, r.stderr.decode(errors="replace")[-2000:]
    assert b" ? " in r.stdout  # the "—" of a neuron's line
    # the file name's bytes, decoded with surrogateescape from argv, print as they came: UTF-8 here
    assert f"wrote {out / 'neurons.sqlite'}".encode() in r.stdout
    assert (out / "INDEX.md").read_text(encoding="utf-8").startswith("#")


def test_the_surrogateescape_or_replace_handler():
    import metanet.cli

    assert metanet.cli._surrogateescape_or_replace  # importing metanet.cli registers it

    text = "caf\udcc3\udca9 \u2014 \u03c4\udcff"
    assert text.encode("ascii", "metanet.surrogateescape_or_replace") == b"caf\xc3\xa9 ? ?\xff"
    assert "\u00e9\u2014".encode("latin-1", "metanet.surrogateescape_or_replace") == b"\xe9?"
    assert b"a\xff".decode("ascii", "metanet.surrogateescape_or_replace") == "a\ufffd"


def test_replace_unencodable_keeps_surrogateescape_bytes(monkeypatch):
    from metanet.cli import _replace_unencodable

    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii", errors="surrogateescape")
    monkeypatch.setattr(sys, "stdout", stream)
    monkeypatch.setattr(sys, "stderr", None)  # closed: skipped
    _replace_unencodable()
    print("n\udcc3\udca9 \u2014", file=stream)
    stream.flush()
    assert raw.getvalue() == b"n\xc3\xa9 ?\n"
    assert codecs.lookup(stream.encoding).name == "ascii"
