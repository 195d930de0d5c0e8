"""``metanet.read`` says when a network is far from every network the reader was trained on (``unlike_training``
plus a UserWarning): weights scaled x10, one huge first-layer weight, a mostly zero (pruned) layer. An ordinary
freshly initialised MLP and a generated one get no such key, and their readings are unchanged."""

from __future__ import annotations

import warnings

import pytest
import torch

import metanet
from metanet.nets import build


def _net(edit=None):
    net = build("mlp:64-16-10:relu", seed=0)
    if edit is not None:
        with torch.no_grad():
            edit(net)
    return net


def _scale(net):
    for p in net.parameters():
        p.mul_(10)


def _huge(net):
    next(net.parameters()).view(-1)[5] = 100.0


def _pruned(net):
    w = next(net.parameters())
    w.view(-1)[: int(0.9 * w.numel())] = 0.0


@pytest.mark.parametrize("edit, words", [(_scale, "variance"), (_huge, "first layer weights"), (_pruned, "exactly zero")])
def test_a_network_unlike_the_training_ones_is_flagged_with_a_warning(edit, words):
    with pytest.warns(UserWarning, match="guesses"):
        out = metanet.read(_net(edit), scan=False)
    assert words in out["unlike_training"] and "guesses" in out["unlike_training"]


def test_ordinary_networks_are_not_flagged_and_read_as_before():
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        out = metanet.read(_net(), scan=False)
    assert "unlike_training" not in out


def test_the_cli_prints_the_warning_before_the_figures(tmp_path, capsys):
    from metanet.cli import main

    path = metanet.save(_net(_pruned), tmp_path / "pruned.safetensors", task="digits")
    with pytest.warns(UserWarning, match="exactly zero"):
        assert main(["read", str(path), "--no-scan"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith("  WARNING    ") and "exactly zero" in out[1] and out[2].startswith("  task ")
