"""Top-level CLI vs Python: every option of ``metanet generate / verify / improve / refine / demo`` defaults to what
the Python function it calls defaults to, and a default ``--help`` prints is the real one."""

from __future__ import annotations

import inspect
import re

import pytest

from metanet.cli import build_parser

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
