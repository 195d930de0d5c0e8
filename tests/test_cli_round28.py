"""The ``metanet`` command line as a shell user meets it (round 28): the ``--help`` formatter is argparse's
ArgumentDefaultsHelpFormatter, '~' in output paths is the home folder (as for every file metanet reads or saves),
and Ctrl-C outside a command's own work (loading libraries, ``metanet train``) is exit code 130 with one line."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from process_helpers import run_cli

from metanet.cli import _Parser, build_parser
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


# ------------------------------------------------------------------------------------------------ --help formatter
def _help_lines(parser: argparse.ArgumentParser) -> str:
    return " ".join(parser.format_help().split())


def test_help_formatter_is_argparses_defaults_formatter():
    parser = build_parser()
    assert isinstance(parser._get_formatter(), argparse.ArgumentDefaultsHelpFormatter)


def test_help_shows_defaults_where_they_apply_and_only_once():
    p = _Parser(prog="x")
    p.add_argument("--rounds", type=int, default=5, help="writer updates")
    p.add_argument("--lr", type=float, default=1e-3)  # no help: a line with the default
    p.add_argument("--empty-help", default="val", help="")  # an empty help printed no line, the default hidden
    p.add_argument("--stated", default=8, help="K candidates (Default 8)")  # stated already, capitalised
    p.add_argument("--unset", default=None, help="nothing to show")
    p.add_argument("--flag", action="store_true", help="a flag")
    p.add_argument("--name", default="", help="blank default")
    p.add_argument("--pct", default=3, help="index %% N")
    p.add_argument("maybe", nargs="?", default="digits", help="a positional that may be left out")
    p.add_argument("needed", help="a required positional")
    text = _help_lines(p)
    assert "--rounds ROUNDS writer updates (default: 5)" in text
    assert "--lr LR (default: 0.001)" in text
    assert "--empty-help EMPTY_HELP (default: val)" in text
    assert "(Default 8) (default" not in text and text.count("default: 8") == 0
    assert "nothing to show (default" not in text and "a flag (default" not in text
    assert "blank default (default" not in text
    assert "index % N (default: 3)" in text
    assert "a positional that may be left out (default: digits)" in text
    assert "a required positional (default" not in text


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
