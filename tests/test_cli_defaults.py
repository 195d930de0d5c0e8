"""The ``metanet`` command line against the Python API it calls: every option of every (sub)command defaults to what
the Python function it calls defaults to, and the default ``--help`` prints is the real one (argparse's
ArgumentDefaultsHelpFormatter, each default shown once and only where it applies); ``metanet generate`` takes its
options as ``metanet.generate`` does (``--no-verify``, ``--shots all``), and a bad ``--seed`` is the same usage
error in every command.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import re

import pytest
import torch
from process_helpers import run_cli

from metanet.cli import _Parser, build_parser
from metanet.errors import ConfigError


# (argv with the required arguments, the Python function, {CLI dest: Python parameter}); a CLI option not listed
# has no Python counterpart (--json, --out, --threads, ...) or a documented CLI-only encoding (generate --shots
# all for None)
PARITY = [
    (["generate", "digits"], "metanet.writer:generate",
     {"arch": "arch", "candidates": "candidates", "seed": "seed", "shots": "shots", "writer": "writer"}),
    (["verify", "f.safetensors", "--task", "digits"], "metanet:verify", {"split": "split"}),
    (["improve", "digits"], "metanet.loop:improve",
     {"rounds": "rounds", "method": "method", "candidates": "candidates", "keep": "keep", "lr": "lr",
      "selection": "selection", "folds": "folds", "heldout": "heldout", "seed": "seed", "log_dir": "log_dir"}),
    (["refine", "f.safetensors", "--task", "digits"], "metanet.loop:refine",
     {"method": "method", "steps": "steps", "population": "population", "sigma": "sigma", "lr": "lr",
      "split": "verify_on", "seed": "seed"}),
    (["demo"], "metanet.demo:run_demo",
     {"out": "out", "seed": "seed", "quick": "quick", "candidates": "candidates", "rounds": "rounds",
      "threads": "threads"}),
]


def _function(path: str):
    import importlib

    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("argv, function, mapping", PARITY, ids=[p[0][0] for p in PARITY])
def test_cli_defaults_are_the_python_defaults(argv, function, mapping):
    # `metanet refine` ran 200 steps, metanet.refine 100
    args = vars(build_parser().parse_args(argv))
    params = inspect.signature(_function(function)).parameters
    for dest, param in mapping.items():
        assert args[dest] == params[param].default, (argv[0], dest)


def _help(command: str) -> dict[str, str]:
    """``--help`` of ``command`` as {option: its help text}."""
    sub = next(a for a in build_parser()._subparsers._group_actions if a.choices)
    return {a.option_strings[0]: a.help or "" for a in sub.choices[command]._actions if a.option_strings}


@pytest.mark.parametrize("command, argv", [("generate", ["digits"]), ("verify", ["f", "--task", "t"]),
                                           ("improve", ["digits"]), ("refine", ["f", "--task", "t"]),
                                           ("demo", [])])
def test_defaults_printed_in_help_are_the_real_ones(command, argv):
    args = vars(build_parser().parse_args([command, *argv]))
    parser = next(a for a in build_parser()._subparsers._group_actions if a.choices).choices[command]
    for action in parser._actions:
        m = re.search(r"\(default:? ([^)]+)\)", action.help or "")
        if not m or not action.option_strings:
            continue
        printed = m.group(1)
        value = args[action.dest]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            assert float(printed) == value, (command, action.dest, printed, value)
        elif value is not None:
            assert printed == str(value), (command, action.dest, printed, value)


def test_refine_help_states_its_defaults():
    helps = _help("refine")
    assert "default 100" in helps["--steps"] and "default 32" in helps["--population"]


_run = run_cli


def _subparsers(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    """Every (sub)command's parser, as (words, parser): ('zoo', 'build') included."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*prefix, name), sub
                yield from _subparsers(sub, (*prefix, name))


def _parser(*words: str) -> argparse.ArgumentParser:
    return dict(_subparsers(build_parser()))[words]


def _signature_default(path: str, param: str):
    module, name = path.split(":")
    return inspect.signature(getattr(importlib.import_module(module), name)).parameters[param].default


# ------------------------------------------------------------------------------------------------ generate
@pytest.fixture
def calls(monkeypatch):
    """``metanet.writer.generate`` replaced by a recorder that stops the command (no writer, no task data)."""
    import metanet.writer

    seen: list[dict] = []

    def fake(spec, **kwargs):
        seen.append(kwargs)
        raise ConfigError("stopped by the test")

    monkeypatch.setattr(metanet.writer, "generate", fake)
    return seen


def test_generate_passes_python_defaults_and_no_verify(calls, capsys):
    # there was no way to ask for verify=False from the CLI
    assert _run(["generate", "digits"], capsys)[0] == 2
    assert calls[-1] == {"arch": None, "candidates": 8, "verify": True, "seed": 0, "writer": None, "shots": 1000}
    assert _run(["generate", "digits", "--no-verify"], capsys)[0] == 2
    assert calls[-1]["verify"] is False
    assert vars(build_parser().parse_args(["generate", "digits"]))["verify"] == \
        _signature_default("metanet.writer.generate:generate", "verify")


@pytest.mark.parametrize("text, shots", [("all", None), ("ALL", None), ("5", 5), ("1", 1)])
def test_generate_shots_all_is_the_whole_split(calls, capsys, text, shots):
    assert _run(["generate", "digits", "--shots", text], capsys)[0] == 2
    assert calls[-1]["shots"] == shots


@pytest.mark.parametrize("text", ["0", "-1", "x", "1.5", ""])
def test_generate_shots_below_one_is_refused_as_in_python(calls, capsys, text):
    # --shots 0 silently meant the whole training split, while metanet.generate(shots=0) is refused
    code, out, err = _run(["generate", "digits", "--shots", text], capsys)
    assert code == 2 and out == "" and calls == []
    assert err.strip().splitlines()[-1] == (
        "metanet generate: error: argument --shots: must be a whole number >= 1 (support examples per class) or "
        f"'all' (the whole training split), got {text!r}")


@pytest.mark.parametrize("command", [["generate", "digits"], ["refine", "f", "--task", "t"], ["improve", "digits"],
                                     ["demo"]])
@pytest.mark.parametrize("seed", ["1.5", "x", str(2**63)])
def test_seed_usage_error_is_the_same_in_every_command(capsys, command, seed):
    # generate said "invalid int value: '1.5'" (and took 2**63), the other commands name what a seed must be
    code, out, err = _run([*command, "--seed", seed], capsys)
    assert code == 2 and out == ""
    line = err.strip().splitlines()[-1]
    assert line.startswith(f"metanet {command[0]}: error: argument --seed: must be a whole number"), line
    assert line.endswith(f"got {seed!r}")


def test_generate_help_shows_the_python_defaults_and_what_the_network_depends_on():
    helps = {a.option_strings[0]: a.help or "" for a in _parser("generate")._actions if a.option_strings}
    for option in ("candidates", "seed", "shots"):
        default = _signature_default("metanet.writer.generate:generate", option)
        assert f"(default {default})" in helps[f"--{option}"], (option, helps[f"--{option}"])
    assert "--shots" in helps["--seed"] and "--writer" in helps["--seed"]
    assert "'all'" in helps["--shots"]


def test_generate_no_verify_keeps_candidate_0_unscored(tmp_path, capsys):
    from metanet.writer import Writer

    torch.manual_seed(0)
    writer = tmp_path / "writer.safetensors"
    Writer(hidden=8, message=4).save(writer)
    code, out, err = _run(["generate", "digits", "--candidates", "2", "--shots", "5", "--writer", str(writer),
                           "--no-verify", "--json"], capsys)
    assert code == 0, err
    report = json.loads(out)
    assert report["chosen"] == 0
    assert [c["val_accuracy"] for c in report["candidates"]] == [None, None]  # NaN: not scored


# ------------------------------------------------------------------------------------------------ every --help
def _shown_default(parser: argparse.ArgumentParser, action: argparse.Action) -> str | None:
    """The default ``--help`` prints for ``action``, or None."""
    text = " ".join(parser._get_formatter()._format_action(action).split())
    m = re.search(r"default:? ([^);,]+)", text)
    return m.group(1).strip() if m else None


def _options():
    for words, parser in _subparsers(build_parser()):
        for action in parser._actions:
            if action.option_strings and not isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
                yield " ".join(words), parser, action


@pytest.mark.parametrize("command, parser, action", list(_options()),
                         ids=[f"{c} {a.option_strings[0]}" for c, _, a in _options()])
def test_every_option_help_shows_its_real_default(command, parser, action):
    # improve --lr / --method, refine --method, verify --split ... printed no default at all
    default = action.default
    shown = _shown_default(parser, action)
    if default is None or isinstance(default, bool):
        return  # a flag, or no value: a help that names a default names what the command does instead
    assert shown is not None, f"metanet {command} --help: {action.option_strings[0]} shows no default"
    if isinstance(default, (int, float)):
        assert float(shown) == default, (command, action.dest, shown, default)
    else:
        assert shown == str(default), (command, action.dest, shown, default)


# ------------------------------------------------------------------------------------------------ CLI vs Python
# (command argv with its required arguments, Python function, {CLI dest: Python parameter}); one to one only
SUBCOMMAND_PARITY = [
    (["zoo", "build", "tiny", "--out", "z"], "metanet.zoo.build:build",
     {"shard": "shard", "limit": "limit", "backend": "backend", "workers": "workers", "ray_address": "ray_address",
      "threads": "threads"}),
    (["read", "f"], "metanet.reader.predict:read", {"reader": "reader"}),
    (["inspect", "f", "--out", "d"], "metanet.inspect.analyze:inspect",
     {"split": "split", "max_examples": "max_examples"}),
    (["edit", "f", "--out", "g"], "metanet.edit:remove", {"split": "split"}),
    (["edit", "f", "--out", "g"], "metanet.edit:prune", {"split": "split", "prune_scope": "scope"}),
]


@pytest.mark.parametrize("argv, function, mapping", SUBCOMMAND_PARITY, ids=[f"{p[0][0]}-{p[1]}" for p in SUBCOMMAND_PARITY])
def test_subcommand_cli_defaults_are_the_python_defaults(argv, function, mapping):
    args = vars(build_parser().parse_args(argv))
    for dest, param in mapping.items():
        assert args[dest] == _signature_default(function, param), (argv[:2], dest)


def test_zoo_build_progress_is_on_by_default_as_in_python():
    args = build_parser().parse_args(["zoo", "build", "tiny", "--out", "z"])
    assert (not args.no_progress) == _signature_default("metanet.zoo.build:build", "progress")


@pytest.mark.parametrize("option, function, param", [
    ("--max-asr", "metanet.edit:repair_backdoor", "max_asr"),
    ("--max-drop", "metanet.edit:repair_backdoor", "max_drop"),
    ("--prune-method", "metanet.edit:prune", "method"),
])
def test_edit_defaults_left_to_python_are_the_ones_help_prints(option, function, param):
    # these options default to None (not passed): the default --help names must be the Python one
    parser = _parser("edit")
    action = next(a for a in parser._actions if option in a.option_strings)
    text = " ".join((action.help or "").split())
    m = re.search(r"default:? ([\w.]+)", text)
    assert m, text
    default = _signature_default(function, param)
    assert (float(m.group(1)) if isinstance(default, float) else m.group(1)) == default


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
