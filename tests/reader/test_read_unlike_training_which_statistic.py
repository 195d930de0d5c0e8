"""``metanet.read``'s ``unlike_training`` names the statistic that is far out in the layer slot where it is: a last
layer scaled x10 (its weights' variance; the last slot's statistics are checked too), and a layer exactly half zero
(the threshold is "at least half"). Only a huge first-layer weight and a whole network scaled were checked."""

from __future__ import annotations

import warnings

import pytest
import torch

import metanet
from metanet.nets import build


def _weights(net):
    return [p for name, p in net.named_parameters() if name.endswith("weight")]


def _last_x10(net):
    _weights(net)[-1].mul_(10)


def _half_zero(net):
    w = _weights(net)[0]
    w.view(-1)[: w.numel() // 2] = 0.0


@pytest.mark.parametrize("edit, words", [
    (_last_x10, "its last layer weights' variance is"),
    (_half_zero, "50% of the weights of its layer 1 are exactly zero"),
], ids=["last-layer-x10", "half-zero"])
def test_the_statistic_far_out_is_named(edit, words):
    net = build("mlp:64-16-10:relu", seed=0)
    with torch.no_grad():
        edit(net)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = metanet.read(net, scan=False)
    assert out.get("unlike_training", "").startswith(words), out.get("unlike_training")
