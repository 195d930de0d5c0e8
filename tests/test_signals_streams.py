"""SIGTERM, closed pipes and notebook-like streams: ``metanet`` run as real processes (and the API in-process).

SIGTERM is what ``kill``, ``timeout``, systemd, Slurm and Ray send before SIGKILL: the command ends promptly with
exit code 143 and one line, the files it was writing are removed (no temporary file or staging folder beside the
outputs) and a zoo build resumes with nothing lost. The tests wait for a file or a line, never for a time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from lightning_helpers import tiny_loop_fit
from process_helpers import committed_units, run_cli

ROOT = Path(__file__).resolve().parents[1]
TERMINATED = "metanet: terminated (SIGTERM)"


def _env(**extra: str) -> dict[str, str]:
    # PYTHONUNBUFFERED (set by some CI) hides what a buffered stdout does at exit: a user's shell does not set it
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return {**env, "PYTHONPATH": os.pathsep.join([*filter(None, [os.environ.get("PYTHONPATH")]), str(ROOT)]), **extra}


class _Run:
    """``python ARGS`` with stderr collected by a thread, so the test can wait for a line while it runs."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        self.p = subprocess.Popen([sys.executable, *args], cwd=cwd, env=_env(), stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=lambda: self.lines.extend(iter(self.p.stderr.readline, "")),
                                        daemon=True)
        self._reader.start()

    def wait_for(self, ready, what: str, timeout: float = 240.0) -> None:
        """Poll ``ready()`` until it holds; fails if the process ends first or after a generous ``timeout``."""
        end = time.monotonic() + timeout
        while not ready():
            assert self.p.poll() is None, f"ended ({self.p.returncode}) before {what}: {self.err()[-2000:]}"
            assert time.monotonic() < end, f"no {what} after {timeout} s"
            time.sleep(0.02)

    def terminate(self, timeout: float = 60.0) -> int:
        self.p.send_signal(signal.SIGTERM)
        code = self.p.wait(timeout)  # promptly: a SIGTERM that waited for the whole command would time out here
        self._reader.join(10)
        return code

    def err(self) -> str:
        return "".join(self.lines)


def _metanet(*args: str) -> list[str]:
    return ["-m", "metanet", *map(str, args)]


def _leftovers(folder: Path) -> list[str]:
    """Hidden entries (temporary files, staging folders) in ``folder`` and below; a zoo's .lock is its own."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob(".*") if p.name != ".lock")


def _net(tmp_path: Path) -> Path:
    from metanet.io import save
    from metanet.nets import build

    return save(build("mlp:64-16-10:relu", seed=0), tmp_path / "net.safetensors")


# -- SIGTERM -------------------------------------------------------------------------------------------------------


def test_sigterm_during_a_zoo_build_stops_it_and_a_rerun_completes_it(tmp_path, capsys):
    out = tmp_path / "zoo"
    recipe = ROOT / "zoo" / "tiny.yaml"
    run = _Run(_metanet("zoo", "build", recipe, "--out", out, "--limit", "24"), tmp_path)
    # a committed unit, not only its shard: a shard renamed into place whose rows were not committed yet is trained
    # again by the rerun (correctly), which made this test's "resumed" check fail now and then
    run.wait_for(lambda: committed_units(out / "index.sqlite") > 0, "first committed unit")
    assert run.terminate() == 143, run.err()  # was -15: killed by the signal, no cleanup
    assert run.err().strip().splitlines()[-1] == TERMINATED
    assert _leftovers(out) == []
    # the rerun and the check in this process: only the killed build needed one of its own
    code, stdout, stderr = run_cli(["zoo", "build", str(recipe), "--out", str(out), "--limit", "24", "--no-progress"],
                                   capsys)
    assert code == 0, stderr
    assert "skipped 0 already done" not in stdout  # it resumed: the units stored before SIGTERM were kept
    code, stdout, stderr = run_cli(["zoo", "check", str(out)], capsys)
    assert code == 0 and "OK: 96 networks" in stdout, stdout + stderr  # 24 runs x 4
    assert _leftovers(out) == []


def test_sigterm_during_inspect_leaves_no_staging_folder(tmp_path):
    net = _net(tmp_path)
    out = tmp_path / "insp"
    run = _Run(_metanet("inspect", net, "--task", "digits", "--out", out), tmp_path)
    # inspect writes into a hidden staging folder beside the output and moves it in when all is written
    run.wait_for(lambda: any(tmp_path.glob(".insp.inspect-*")), "staging folder")
    assert run.terminate() == 143, run.err()
    assert run.err().strip().splitlines()[-1] == TERMINATED
    assert _leftovers(tmp_path) == [] and not out.exists()  # was a '.insp.inspect-XXXX.tmp' folder of partial files


def test_sigterm_while_the_output_file_is_written_leaves_no_temporary(tmp_path):
    # the write of --out is held half-done (the temporary exists, not yet renamed) until the signal comes
    hold = ("import pathlib, signal, sys\n"
            "def write_bytes(self, data):\n"
            "    with open(self, 'wb') as f:\n"
            "        f.write(data[: len(data) // 2])\n"
            "    print('writing', self.name, file=sys.stderr, flush=True)\n"
            "    signal.pause()\n"
            "pathlib.Path.write_bytes = write_bytes\n"
            "from metanet.cli import main\n"
            "sys.exit(main(sys.argv[1:]))\n")
    out = tmp_path / "out" / "g.safetensors"
    run = _Run(["-c", hold, "generate", "digits", "--candidates", "2", "--out", str(out)], tmp_path)
    run.wait_for(lambda: any(line.startswith("writing .g.safetensors.") for line in run.lines), "write of --out")
    assert run.terminate() == 143, run.err()
    assert run.err().strip().splitlines()[-1] == TERMINATED
    assert not out.exists() and list(out.parent.iterdir()) == []  # was a '.g.safetensors.XXXX.tmp' left


def test_sigterm_during_train_fit_is_exit_143_with_the_checkpoint_kept(tmp_path):
    # Lightning stops the fit at the end of the batch; its SystemExit had code None: exit code 0, as if finished
    runs = tmp_path / "runs"
    run = _Run(_metanet("train", *tiny_loop_fit(tmp_path, max_steps=100000)), tmp_path)
    last = runs / "loop" / "version_0" / "checkpoints" / "last.ckpt"
    run.wait_for(last.exists, "last.ckpt")
    assert run.terminate() == 143, run.err()
    assert run.err().strip().splitlines()[-1].startswith(TERMINATED + "; the checkpoints saved so far are kept")
    assert last.is_file() and not (tmp_path / "loop.safetensors").exists()  # a stopped fit exports nothing
    assert _leftovers(tmp_path) == []


# -- closed pipes (`metanet ... | head -1`) ------------------------------------------------------------------------


def _into_closed_pipe(args: list[str], cwd: Path, stderr_too: bool = False) -> tuple[int, str]:
    """Run ``metanet ARGS`` with stdout (and stderr, as ``2>&1 | head``) a pipe whose reader has already gone."""
    r, w = os.pipe()
    os.close(r)
    try:
        p = subprocess.run([sys.executable, *_metanet(*args)], stdout=w, stderr=w if stderr_too else subprocess.PIPE,
                           cwd=cwd, env=_env(), timeout=300)
    finally:
        os.close(w)
    return p.returncode, (p.stderr or b"").decode()


def test_help_into_a_closed_pipe_stops_quietly(tmp_path):
    # argparse's text stayed in stdout's buffer: "Exception ignored ... BrokenPipeError" at exit, exit code 120
    assert _into_closed_pipe(["--help"], tmp_path) == (141, "")


def test_no_command_is_a_usage_error_on_stderr_whatever_stdout_is(tmp_path):
    # no command is a usage error: its help goes to stderr (as `metanet zoo` alone), nothing to a closed stdout
    code, err = _into_closed_pipe([], tmp_path)
    assert code == 2 and err.startswith("usage: metanet")


@pytest.mark.parametrize("args", [[], ["zoo"], ["verify", "--no-such-flag"]], ids=["no-command", "zoo", "bad-flag"])
def test_a_usage_message_into_a_closed_pipe_stops_quietly(args, tmp_path):
    # `metanet 2>&1 | head`: argparse drops the text it cannot write, but it stayed buffered and Python's flush at
    # exit failed ("Exception ignored ... BrokenPipeError", exit code 120)
    assert _into_closed_pipe(args, tmp_path, stderr_too=True) == (141, "")


def test_an_error_line_into_a_closed_pipe_stops_quietly(tmp_path):
    # `metanet ... 2>&1 | head -1`: the error line itself met the closed pipe (a traceback, exit code 120)
    code, _ = _into_closed_pipe(["verify", str(tmp_path / "missing.safetensors"), "--task", "digits"], tmp_path,
                                stderr_too=True)
    assert code == 141


# -- notebook-like streams ------------------------------------------------------------------------------------------


class _Bare:
    """A stream with only write and flush (no fileno, encoding or isatty), as some notebook front ends give."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def flush(self) -> None:
        pass


def test_zoo_build_with_stderr_none_builds_without_a_bar(tmp_path, monkeypatch):
    """sys.stderr None (``2>&-``, pythonw, a service): the progress bar was written to None (AttributeError)."""
    from metanet.zoo import build

    monkeypatch.setattr(sys, "stderr", None)
    summary = build("tiny", tmp_path / "zoo", limit=1)
    assert summary.nets_written == 4


def test_cli_in_process_with_bare_streams_prints_to_them(tmp_path, monkeypatch):
    from metanet.cli import main

    out, err = _Bare(), _Bare()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(sys, "stdin", None)
    assert main(["zoo", "build", "tiny", "--out", str(tmp_path / "zoo"), "--limit", "1"]) == 0
    assert main(["zoo", "info", str(tmp_path / "zoo")]) == 0
    assert main(["verify", str(tmp_path / "missing.safetensors"), "--task", "digits"]) == 2
    text = "".join(out.parts)
    assert "built 1 unit (4 networks)" in text and "recipe tiny" in text
    assert "nets" in "".join(err.parts) and "metanet: error: " in "".join(err.parts)  # the bar, then the error
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "usage: metanet" in "".join(out.parts)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the CLI's SIGTERM handler is gone after it


def test_a_sigterm_handler_of_the_caller_is_kept(monkeypatch):
    from metanet.cli import main

    def mine(signum, frame):
        raise AssertionError("not called")

    old = signal.signal(signal.SIGTERM, mine)
    try:
        assert main(["tasks", "--json"]) == 0
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, old)
