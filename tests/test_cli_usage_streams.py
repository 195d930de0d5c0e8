"""Where ``metanet`` prints its usage, by argparse's convention: a command group run without its command is a usage
error (the help on stderr, exit code 2), ``--help`` is output asked for (stdout, exit code 0). ``metanet`` alone
printed its help on stdout, ``metanet zoo`` alone on stderr."""

from __future__ import annotations

import pytest

from metanet.cli import build_parser, main

#: every command group: each one run without a (sub)command
GROUPS = [[], ["--debug"], ["zoo"], ["--debug", "zoo"]]


@pytest.mark.parametrize("argv", GROUPS, ids=" ".join)
def test_a_group_without_its_command_is_a_usage_error_on_stderr(argv, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"usage: metanet{' zoo' if 'zoo' in argv else ''} ")


def _help_argvs() -> list[list[str]]:
    """``--help`` of metanet, of every command and of every zoo subcommand (``train``'s is LightningCLI's)."""
    import argparse

    out = [["--help"]]
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, p in sub.choices.items():
        if name == "train":
            continue
        out.append([name, "--help"])
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                out += [[name, n, "--help"] for n in a.choices]
    return out


@pytest.mark.parametrize("argv", _help_argvs(), ids=" ".join)
def test_help_is_on_stdout_with_exit_code_0(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out.startswith(f"usage: metanet {' '.join(argv[:-1])}".rstrip())


def test_a_missing_argument_is_a_usage_error_on_stderr(capsys):
    with pytest.raises(SystemExit) as info:
        main(["read"])
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "metanet read: error: the following arguments are required: file" in captured.err
