"""SIGTERM where Lightning leaves it unhandled (a fit's setup, its fit-end export), the demo with a closed stream, and
failures of TensorBoard's event-file thread (one error line, never a thread traceback; also with two commands
running at once in one process). The subprocess tests wait for a line, never for a time.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import metanet.cli as cli
from lightning_helpers import tiny_loop_fit
from metanet.cli import main

ROOT = Path(__file__).resolve().parents[1]
TERMINATED = "metanet: terminated (SIGTERM)"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return {**env, "PYTHONPATH": os.pathsep.join([*filter(None, [os.environ.get("PYTHONPATH")]), str(ROOT)])}


# -- SIGTERM in `metanet train fit` outside Lightning's own handler ---------------------------------------------------

# runs `metanet ARGS`, held (until a signal) at POINT: just before Lightning installs its SIGTERM handler (the end of
# the fit's setup), or with the export's temporary file written, before it is renamed (after Lightning has put SIGTERM
# back as it found it)
_HOLD = """
import os, signal, sys
point = sys.argv[1]
def hold():
    print('holding at', point, file=sys.stderr, flush=True)
    signal.pause()
if point == 'setup':
    from lightning.pytorch.trainer.connectors.signal_connector import _SignalConnector
    register = _SignalConnector.register_signal_handlers
    def held_register(self):
        hold()
        register(self)
    _SignalConnector.register_signal_handlers = held_register
else:
    replace = os.replace
    def held_replace(src, dst, **kwargs):
        if str(dst).endswith('loop.safetensors'):
            hold()
        return replace(src, dst, **kwargs)
    os.replace = held_replace
from metanet.cli import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("point", ["setup", "export"])
def test_sigterm_in_train_fit_outside_lightnings_handler_cleans_up(point, tmp_path):
    export = tmp_path / "loop.safetensors"
    p = subprocess.Popen([sys.executable, "-c", _HOLD, point, "train", *tiny_loop_fit(tmp_path)], cwd=tmp_path,
                         env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in p.stderr:  # blocks until the held point is reached (or the process ends)
            lines.append(line)
            if line.startswith("holding at"):
                break
        assert lines and lines[-1].startswith("holding at"), "".join(lines)[-3000:]
        if point == "export":
            assert [f.name for f in tmp_path.glob(".loop.safetensors.*.tmp")]  # the write is under way
        p.send_signal(signal.SIGTERM)
        rest = p.stderr.read()
        code = p.wait(60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    # was -15: the process killed by the signal, nothing cleaned up (the export's temporary file left beside it)
    assert code == 143, "".join(lines)[-2000:] + rest[-3000:]
    assert rest.strip().splitlines()[-1] == TERMINATED
    assert not export.exists() and list(tmp_path.glob(".loop.safetensors.*")) == []


# -- the demo with stdout or stderr closed (`>&-`, `2>&-`) ------------------------------------------------------------


def _say_stages(monkeypatch) -> None:
    """The demo's stages replaced by stubs that print one readable line each (through the demo's ``say``)."""
    import metanet.demo as demo

    def stage(name):
        def run_stage(run, *args):
            with run.stage(name, "stub") as row:
                args[-1](f"readable {name}")  # every stage's last argument is `say`
                row["result"] = "ok"
            return (None, {}) if name == "generate" else {}
        return run_stage

    for name in demo.STAGES:
        monkeypatch.setattr(demo, f"_stage_{name}", stage(name))


@pytest.mark.parametrize("closed", ["stdout", "stderr"])
def test_demo_with_a_closed_stream_runs_and_writes_to_the_other(closed, tmp_path, monkeypatch, capsys):
    _say_stages(monkeypatch)
    monkeypatch.setattr(sys, closed, None)  # what Python gives a process started with that stream closed
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 0  # stderr None: an AttributeError from tqdm's bar
    out, err = capsys.readouterr()
    if closed == "stdout":
        assert "[6/6] prune: ok" in err
    else:
        assert "readable prune" in out and "total " in out
        assert "[1/6]" not in out  # the stage lines are not put on stdout instead


# -- TensorBoard's event-file thread ----------------------------------------------------------------------------------


class _FailingRecords:
    """A record writer whose first write waits for ``go`` and then fails with ``error`` (a full disk)."""

    def __init__(self, error: Exception) -> None:
        self.go = threading.Event()
        self.error = error

    def write(self, data: bytes) -> None:
        self.go.wait(60)
        raise self.error

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def _failed_write(error: Exception, then: str) -> None:
    """One event written by TensorBoard's real ``_AsyncWriter``; its thread fails on it; then ``close()`` (which
    does not raise the thread's error) or ``flush()`` (which does)."""
    from tensorboard.summary.writer.event_file_writer import _AsyncWriter

    records = _FailingRecords(error)
    writer = _AsyncWriter(records)
    writer.write(b"event")
    records.go.set()  # the write returned before the thread failed: the failure comes after it
    getattr(writer, then)()


def _command(monkeypatch, run) -> None:
    """``metanet tb`` runs ``run()``, a command of the CLI (its errors handled as every command's)."""
    def build_parser() -> argparse.ArgumentParser:
        parser = argparse.ArgumentParser(prog="metanet")
        parser.add_argument("--debug", action="store_true")
        parser.add_subparsers().add_parser("tb").set_defaults(run=lambda args: run())
        return parser

    monkeypatch.setattr(cli, "build_parser", build_parser)


@pytest.fixture
def printed(monkeypatch) -> list[BaseException]:
    """What reaches ``threading.excepthook`` (a thread's traceback printed) while the test runs."""
    seen: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: seen.append(args.exc_value))
    return seen


@pytest.mark.parametrize("error, shown", [
    (OSError(errno.ENOSPC, "No space left on device"), "No space left on device (while writing an output file); "
     "free some space or write elsewhere, then run again"),
    (ValueError("I/O operation on closed file"), "ValueError: I/O operation on closed file"),
], ids=["disk-full", "other"])
def test_a_final_event_write_that_failed_is_one_error_line(error, shown, monkeypatch, capsys, printed):
    _command(monkeypatch, lambda: _failed_write(error, "close"))
    # was exit code 0 and nothing said (close() does not raise it; the hook hid it), or the thread's traceback
    assert main(["tb"]) == 2
    assert capsys.readouterr().err.splitlines() == [f"metanet: error: TensorBoard's event file could not be "
                                                    f"written: {shown}"]
    assert printed == [] and threading.excepthook is not cli._EVENT_THREADS._hook


def test_an_event_failure_raised_again_by_the_writer_is_reported_once(monkeypatch, capsys, printed):
    _command(monkeypatch, lambda: _failed_write(OSError(errno.ENOSPC, "No space left on device"), "flush"))
    assert main(["tb"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "metanet: error: No space left on device (while writing an output file); free some space or write "
        "elsewhere, then run again"]
    assert printed == []


def test_two_commands_at_once_share_the_hook_and_restore_it(monkeypatch, capsys, printed):
    # the first command ends while the second still runs; the second's event thread then fails
    mine = threading.excepthook
    first_in, second_in, first_done = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        first_in.set()
        second_in.wait(60)

    def second() -> None:
        second_in.set()
        first_done.wait(60)
        _failed_write(OSError(errno.ENOSPC, "No space left on device"), "close")

    calls = iter([first, second])
    lock = threading.Lock()

    def run() -> None:
        with lock:
            command = next(calls)
        command()

    _command(monkeypatch, run)
    codes: dict[str, int] = {}

    def start(name: str) -> threading.Thread:
        t = threading.Thread(target=lambda: codes.__setitem__(name, main(["tb"])))
        t.start()
        return t

    a = start("first")
    assert first_in.wait(60)  # the second starts once the first runs its command
    b = start("second")
    a.join(60)
    first_done.set()
    b.join(60)
    # was: the first put back the hook it found while the second ran (its failure a traceback, exit 0), and the
    # second left the first's hook installed for good
    assert codes == {"first": 0, "second": 2}
    assert printed == []
    assert threading.excepthook is mine
    assert "TensorBoard's event file could not be written: No space left on device" in capsys.readouterr().err
