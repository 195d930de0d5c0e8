"""The ``metanet`` command line as a shell user meets it: '~' in output paths is the home folder (as for every file
metanet reads or saves), checked before the work starts and handed on expanded; and Ctrl-C outside a command's own
work (loading libraries, ``metanet train``) is exit code 130 with one line.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from process_helpers import run_cli

from metanet.io import save
from metanet.nets import build


_run = run_cli


def _run_interrupted(argv: list[str], capsys) -> tuple[int, str, str]:
    """:func:`_run`, with a KeyboardInterrupt escaping ``main`` a test failure (not the end of the pytest session)."""
    try:
        return _run(argv, capsys)
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped metanet.cli.main: a traceback, not exit code 130")


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# ------------------------------------------------------------------------------------------------ '~' in output paths
def test_graph_plot_to_a_path_under_tilde_is_written_in_home(home, capsys):
    net = save(build("mlp:64-8-10:relu", seed=0), home / "net.safetensors")
    code, out, err = _run(["graph", str(net), "--plot", "~/pics/g.png", "--json"], capsys)
    assert code == 0, err
    assert (home / "pics" / "g.png").is_file()
    assert not (Path.cwd() / "~").exists()  # was a folder './~/pics' holding the picture


class _Called(Exception):
    """The slow work ran: the output path was not checked before it."""


def test_generate_out_under_tilde_is_checked_before_the_work(home, capsys, monkeypatch):
    (home / "net.safetensors").mkdir()  # in the way: a directory where the file goes

    def work(*a, **k):
        raise _Called

    monkeypatch.setattr("metanet.writer.generate", work)
    monkeypatch.setattr("metanet.writer.Writer.load", work)
    code, _, err = _run(["generate", "digits", "--out", "~/net.safetensors"], capsys)
    assert code == 2
    assert "is a directory" in _one_error_line(err)


def test_refine_out_under_tilde_is_checked_before_the_work(home, capsys, monkeypatch):
    net = save(build("mlp:64-8-10:relu", seed=0), home / "net.safetensors")
    (home / "refined.safetensors").mkdir()

    def work(*a, **k):
        raise _Called

    monkeypatch.setattr("metanet.loop.refine", work)
    code, _, err = _run(["refine", str(net), "--task", "digits", "--out", "~/refined.safetensors"], capsys)
    assert code == 2
    assert "is a directory" in _one_error_line(err)


def test_improve_log_dir_under_tilde_is_checked_in_home(home, capsys, monkeypatch):
    (home / "tb").write_text("a file, not a directory")

    def work(*a, **k):
        raise _Called

    monkeypatch.setattr("metanet.writer.Writer.load", work)
    code, _, err = _run(["improve", "digits", "--log-dir", "~/tb"], capsys)
    assert code == 2
    assert "is an existing file" in _one_error_line(err)


def test_improve_paths_under_tilde_are_handed_on_expanded(home, capsys, monkeypatch):
    seen = {}

    class _Writer:
        def save(self, path):
            seen["out"] = path
            return Path(path)

    class _Hist:
        config: dict = {}
        rounds: list = []

    def improve(writer, tasks, **kwargs):
        seen["log_dir"] = kwargs["log_dir"]
        return writer, _Hist()

    monkeypatch.setattr("metanet.writer.Writer.load", lambda *a: _Writer())
    monkeypatch.setattr("metanet.loop.improve", improve)
    code, out, err = _run(["improve", "digits", "--log-dir", "~/tb", "--out", "~/w.safetensors"], capsys)
    assert code == 0, err
    # TensorBoard's SummaryWriter does not expand '~': it made a folder './~/tb'
    assert seen == {"log_dir": str(home / "tb"), "out": str(home / "w.safetensors")}


# ------------------------------------------------------------------------------------------------ Ctrl-C
def test_ctrl_c_in_metanet_train_is_exit_130_with_one_line(capsys, monkeypatch):
    def interrupted(argv, debug=False):  # e.g. while Lightning loads or parses the config
        raise KeyboardInterrupt

    monkeypatch.setattr("metanet.train.cli_main", interrupted)
    code, out, err = _run_interrupted(["train", "fit", "-c", "x.yaml"], capsys)
    assert code == 130
    assert err == "metanet: interrupted\n" and out == ""


def test_ctrl_c_while_the_commands_load_is_exit_130_with_one_line(capsys, monkeypatch):
    def interrupted():  # the subsystems' modules are imported while the parser is built
        raise KeyboardInterrupt

    monkeypatch.setattr("metanet.cli.build_parser", interrupted)
    code, out, err = _run_interrupted(["tasks"], capsys)
    assert code == 130
    assert err == "metanet: interrupted\n" and out == ""


def test_output_a_terminal_cannot_encode_is_replaced_not_a_crash(tmp_path):
    # on a stdout that is not UTF-8 (an ASCII or Latin-1 locale, PYTHONIOENCODING=ascii) printing a path with an
    # accent, or the demo's "Kendall τ", ended the command with a UnicodeEncodeError traceback after its work
    import os
    import subprocess
    import sys

    net = tmp_path / "réseau.safetensors"
    save(build("mlp:64-8-10:relu"), net)
    env = dict(os.environ, PYTHONIOENCODING="ascii", OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-m", "metanet", "read", str(net), "--no-scan"], env=env,
                          capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    assert b"r?seau.safetensors" in proc.stdout and b"Traceback" not in proc.stderr
