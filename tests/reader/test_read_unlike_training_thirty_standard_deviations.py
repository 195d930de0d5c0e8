"""read()'s ``unlike_training`` flags a network whose weight scale lies beyond 30 standard deviations of the shipped
reader's training networks (its docstring; fresh networks of their kind stay within 16.5), not one at 24: a clean
784-32-10 MLP with its first layer's weights x25 (variance 24 standard deviations out) and x30 (35 out)."""

from __future__ import annotations

import warnings

import pytest
import torch
from reader_helpers import needs_shipped

import metanet
from metanet.nets import build

pytestmark = needs_shipped


def _read_scaled(factor: float) -> dict:
    net = build("mlp:784-32-10:relu", seed=0)
    with torch.no_grad():
        net.layers[0].weight.mul_(factor)
    return metanet.read(net, scan=False)


def test_a_weight_scale_24_standard_deviations_out_is_not_flagged():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reading = _read_scaled(25)
    assert "unlike_training" not in reading
    assert not [w for w in caught if "standard deviations" in str(w.message)]  # no such warning either


def test_a_weight_scale_35_standard_deviations_out_is_flagged_naming_the_statistic():
    with pytest.warns(UserWarning, match="unlike|standard deviations"):
        reading = _read_scaled(30)
    why = reading["unlike_training"]
    assert "first layer weights' variance" in why and " 35 standard deviations" in why


def test_one_huge_weight_is_flagged_by_the_layers_maximum():
    net = build("mlp:784-32-10:relu", seed=0)
    with torch.no_grad():
        net.layers[0].weight[0, 0] = 10.0  # one weight: the variance and quantiles hardly move, the maximum does
    with pytest.warns(UserWarning, match="standard deviations"):
        why = metanet.read(net, scan=False)["unlike_training"]
    assert "first layer weights' maximum is 10," in why
