"""``metanet generate`` vs ``metanet.generate`` (``--no-verify``, ``--shots all``, ``--seed`` errors, defaults in
``--help``), and every subcommand's ``--help`` showing its real defaults; the parity of CLI and Python defaults for
the commands ``tests/test_cli_round27.py`` does not cover (graph, zoo build, read, inspect, edit)."""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import re

import pytest
import torch
from process_helpers import run_cli

from metanet.cli import build_parser
from metanet.errors import ConfigError


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
PARITY = [
    (["zoo", "build", "tiny", "--out", "z"], "metanet.zoo.build:build",
     {"shard": "shard", "limit": "limit", "backend": "backend", "workers": "workers", "ray_address": "ray_address",
      "threads": "threads"}),
    (["read", "f"], "metanet.reader.predict:read", {"reader": "reader"}),
    (["inspect", "f", "--out", "d"], "metanet.inspect.analyze:inspect",
     {"split": "split", "max_examples": "max_examples"}),
    (["edit", "f", "--out", "g"], "metanet.edit:remove", {"split": "split"}),
    (["edit", "f", "--out", "g"], "metanet.edit:prune", {"split": "split", "prune_scope": "scope"}),
]


@pytest.mark.parametrize("argv, function, mapping", PARITY, ids=[f"{p[0][0]}-{p[1]}" for p in PARITY])
def test_cli_defaults_are_the_python_defaults(argv, function, mapping):
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
