"""The JSON objects ``metanet inspect / edit / improve / refine --json`` print are documented key by key in their
``--json`` help (they were documented nowhere); here the keys printed must be exactly the documented ones, so the
documentation cannot drift from the output."""

from __future__ import annotations

import argparse
import json

import pytest
import torch

import metanet
from metanet.cli import build_parser, json_help, main
from metanet.inspect.cli import EDIT_JSON, INSPECT_JSON
from metanet.loop.cli import IMPROVE_JSON, REFINE_JSON
from metanet.nets import build

DOCUMENTED = {"inspect": INSPECT_JSON, "edit": EDIT_JSON, "improve": IMPROVE_JSON, "refine": REFINE_JSON}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    from metanet.writer import Writer

    tmp = tmp_path_factory.mktemp("json_keys")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        writer = Writer(hidden=8, message=4)
    return {"net": str(metanet.save(build("mlp:64-8-10:relu", seed=0), tmp / "net.safetensors", task="digits")),
            "writer": str(writer.save(tmp / "writer.safetensors")), "tmp": tmp}


def _keys(argv: list[str], capsys) -> set[str]:
    assert main(argv) == 0
    return set(json.loads(capsys.readouterr().out))


def _always(command: str) -> set[str]:
    """The documented keys printed without --out."""
    return {k for k, v in DOCUMENTED[command].items() if "only with --out" not in v}


@pytest.mark.parametrize("command", sorted(DOCUMENTED))
def test_the_json_help_lists_every_documented_key(command):
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    action = next(a for a in sub.choices[command]._actions if "--json" in a.option_strings)
    assert action.help == json_help(DOCUMENTED[command])
    assert all(f"{k} (" in action.help for k in DOCUMENTED[command])


def test_inspect_and_edit_print_exactly_the_documented_keys(files, capsys):
    net, tmp = files["net"], files["tmp"]
    assert _keys(["inspect", net, "--out", str(tmp / "insp"), "--no-pictures", "--no-reader", "--json"],
                 capsys) == set(INSPECT_JSON)
    assert _keys(["edit", net, "--prune", "0.2", "--out", str(tmp / "pruned.safetensors"), "--json"],
                 capsys) == set(EDIT_JSON)


def test_refine_prints_exactly_the_documented_keys(files, capsys):
    argv = ["refine", files["net"], "--task", "digits", "--steps", "1", "--population", "1", "--json"]
    assert _keys(argv, capsys) == _always("refine") != set(REFINE_JSON)
    assert _keys(argv + ["--out", str(files["tmp"] / "refined.safetensors")], capsys) == set(REFINE_JSON)


def test_improve_prints_exactly_the_documented_keys(files, capsys):
    argv = ["improve", "digits", "--rounds", "0", "--candidates", "1", "--writer", files["writer"], "--json"]
    assert _keys(argv, capsys) == _always("improve") != set(IMPROVE_JSON)
    assert _keys(argv + ["--out", str(files["tmp"] / "w2.safetensors")], capsys) == set(IMPROVE_JSON)
