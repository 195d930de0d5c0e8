"""`metanet.edit.prune` of a network that already has zero weights: as documented, they count towards the target,
so pruning again to the sparsity a network has changes nothing, a higher target cuts only the difference, and with
``scope="layer"`` a layer already sparser than the target is left as it is (an edit chain pruning twice cut the
target again on top of the zeros it had)."""

from __future__ import annotations

import pytest
import torch

from metanet import edit
from metanet.nets import build


@pytest.mark.parametrize("scope", ["layer", "global"])
def test_weights_already_zero_count_towards_the_target(scope):
    half, _ = edit.prune(build("mlp:64-32-10:relu", seed=0), 0.5, "digits", scope=scope)
    again, rep = edit.prune(half, 0.5, "digits", scope=scope)
    for a, b in zip(half.state_dict().values(), again.state_dict().values()):
        assert torch.equal(a, b)
    assert rep.details["sparsity"] == pytest.approx(0.5, abs=1e-3)
    more, rep = edit.prune(half, 0.7, "digits", scope=scope)
    assert edit.sparsity(more) == pytest.approx(0.7, abs=1e-3)
    for i in (0, 1):  # the zeros it had stay zero
        assert bool((more.layers[i].weight[half.layers[i].weight == 0] == 0).all())


def test_per_layer_a_layer_already_sparser_than_the_target_is_left_as_it_is():
    model = build("mlp:64-32-10:relu", seed=0)
    with torch.no_grad():
        w = model.layers[0].weight
        w[w.abs() < w.abs().flatten().quantile(0.8)] = 0  # the first layer 80 % sparse, the second dense
    edited, rep = edit.prune(model, 0.5, "digits", scope="layer")
    assert torch.equal(edited.layers[0].weight, model.layers[0].weight)
    assert float((edited.layers[1].weight == 0).double().mean()) == pytest.approx(0.5, abs=2e-3)
