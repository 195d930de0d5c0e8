"""`metanet.inspect.measure.ablate_layer`'s ``value``: variant ``j`` scales neuron ``j``'s output by ``value`` (the
mask ``1 - (1 - value) * eye(H)``), zeroing it only for the default 0; ``value=1`` changes nothing."""

from __future__ import annotations

import torch

from metanet.inspect.measure import ablate_layer, evaluate_masks
from metanet.inspect.netview import NetView
from metanet.nets import build


def _setup():
    v = NetView(build("mlp:64-6-10:tanh", seed=0).eval())
    g = torch.Generator().manual_seed(1)
    return v, torch.rand(40, 1, 8, 8, generator=g), torch.randint(0, 10, (40,), generator=g)


def test_value_one_leaves_every_variant_at_the_networks_own_scores():
    v, x, y = _setup()
    got = ablate_layer(v, 1, x, y, 10, value=1.0)
    whole = evaluate_masks(v, x, y, 10, {1: torch.ones(1, 6)})
    assert torch.equal(got.loss, whole.loss.expand(6)) and torch.equal(got.accuracy, whole.accuracy.expand(6))


def test_value_scales_the_one_neuron_of_each_variant():
    v, x, y = _setup()
    got = ablate_layer(v, 1, x, y, 10, value=0.5)
    for j in range(6):
        mask = torch.ones(1, 6)
        mask[0, j] = 0.5
        assert torch.allclose(got.loss[j : j + 1], evaluate_masks(v, x, y, 10, {1: mask}).loss)
    assert not torch.allclose(got.loss, ablate_layer(v, 1, x, y, 10).loss)  # not the zeroed variants
