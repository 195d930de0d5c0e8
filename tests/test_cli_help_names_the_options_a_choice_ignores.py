"""An option that only one value of another option uses says so in ``--help``, as the Python docstring of the
parameter it maps to does: ``metanet refine --population / --sigma`` (unused by ``--method sgd``), ``metanet improve
--folds`` (``--selection crossfit`` only), ``metanet zoo build --workers / --ray-address`` (one backend each). Their
help read as options of every run, while the code ignores them in the others."""

from __future__ import annotations

import argparse
import importlib
import inspect
import re

import pytest

from metanet.cli import build_parser

# (command words, CLI option, Python function, its parameter, what the parameter's docstring says, what --help says)
CONDITIONAL = [
    (("refine",), "--population", "metanet.loop:refine", "population", 'not used by ``"sgd"``', "not used by sgd"),
    (("refine",), "--sigma", "metanet.loop:refine", "sigma", 'not used by ``"sgd"``', "not used by sgd"),
    (("improve",), "--folds", "metanet.loop:improve", "folds", '``selection="crossfit"``', "--selection crossfit"),
    (("zoo", "build"), "--workers", "metanet.zoo.build:build", "workers", "local backend", "local backend"),
    (("zoo", "build"), "--ray-address", "metanet.zoo.build:build", "ray_address", "Ray cluster", "ray backend"),
]


def _parser(words: tuple[str, ...]) -> argparse.ArgumentParser:
    parser = build_parser()
    for word in words:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[word]
    return parser


def _arg_doc(path: str, param: str) -> str:
    """The text of ``param`` in the Args section of the function's docstring, on one line."""
    module, name = path.split(":")
    function = getattr(importlib.import_module(module), name)
    assert param in inspect.signature(function).parameters, (path, param)
    doc = inspect.getdoc(function) or ""
    m = re.search(rf"^    {param}: (.*?)(?=^    \w+: |^\S|\Z)", doc, flags=re.S | re.M)
    assert m, f"{path}: no Args entry for {param}"
    return " ".join(m.group(1).split())


@pytest.mark.parametrize("words, option, function, param, in_doc, in_help", CONDITIONAL,
                         ids=[f"{' '.join(c[0])} {c[1]}" for c in CONDITIONAL])
def test_help_of_an_option_says_when_it_is_used(words, option, function, param, in_doc, in_help):
    assert in_doc in _arg_doc(function, param), (function, param)  # the condition is still the Python one
    action = next(a for a in _parser(words)._actions if option in a.option_strings)
    help_text = " ".join(_parser(words)._get_formatter()._format_action(action).split())
    assert in_help in help_text, f"metanet {' '.join(words)} --help: {option} does not say {in_help!r}: {help_text}"


def test_refine_sgd_runs_whatever_population_and_sigma_say():
    # what the help claims: sgd takes any --population / --sigma (the perturbation methods refuse these)
    import torch
    from torch import nn

    from metanet.errors import MetanetError
    from metanet.loop import refine

    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    x, y = torch.rand(30, 4), torch.arange(30) % 3
    for method in ("perturbation", "activity"):
        with pytest.raises(MetanetError, match="population"):
            refine(net, (x, y), method=method, steps=1, population=0, verify_on=None)
    done = refine(net, (x, y), method="sgd", steps=1, population=0, sigma=-1.0, verify_on=None)
    assert done.model is not net
