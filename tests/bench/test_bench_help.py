"""bench/*.py: every script's --help states every default, and its docstring names only real options.
"""

from __future__ import annotations

import argparse
import re

import pytest

from bench_helpers import load_bench


SCRIPTS = ["generate", "graph_encode", "loop", "reader", "repair", "run_all", "scale_out", "verify_batched",
           "zoo_throughput"]
#: options a docstring names that are not the script's own (run_all: each benchmark's --quick; scale_out: Lightning's)
FOREIGN = {"run_all": {"--quick"}, "scale_out": {"--trainer"}}


class _Parsed(Exception):
    pass


def _parser(mod, monkeypatch) -> argparse.ArgumentParser:
    """The script's argument parser, taken when ``main`` parses (nothing after that runs)."""
    got = {}

    def grab(self, *a, **k):
        got["parser"] = self
        raise _Parsed

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", grab)
    with pytest.raises(_Parsed):
        mod.main([])
    monkeypatch.undo()
    return got["parser"]


@pytest.mark.parametrize("name", SCRIPTS)
def test_help_states_every_default_and_docstring_options_exist(name, monkeypatch):
    mod = load_bench(name, monkeypatch, prefix="bench_r28")
    p = _parser(mod, monkeypatch)
    options = {o for a in p._actions for o in a.option_strings}
    named = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", mod.__doc__))
    # generate.py's docstring named --sgd-seeds, an option it never had
    assert named - options - FOREIGN.get(name, set()) == set(), name
    for a in p._actions:
        if not a.option_strings or a.dest == "help" or isinstance(a, argparse._StoreTrueAction):
            continue
        text = " ".join((a.help or "").split())
        assert "default" in text.lower(), (name, a.option_strings, text)  # e.g. loop --rounds had no help at all
        if isinstance(a.default, (int, float, str)) and not isinstance(a.default, bool) and a.default != "":
            assert str(a.default) in text, (name, a.option_strings, a.default, text)
