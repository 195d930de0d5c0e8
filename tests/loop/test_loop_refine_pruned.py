"""`refine` of a pruned network: zero weights are refined like every other weight, as its docstring says, by every
method (the network comes back dense); the input network keeps its zeros."""

from __future__ import annotations

import pytest
import torch

from metanet.edit import sparsity
from metanet.loop import refine
from metanet.nets import build


@pytest.mark.parametrize("method", ["perturbation", "activity", "sgd"])
def test_refine_moves_the_zero_weights_of_a_pruned_network(method: str) -> None:
    net = build("mlp:8-6-3:relu", seed=0)
    with torch.no_grad():
        for layer in net.layers:
            layer.weight[:, ::2] = 0.0
    before = sparsity(net)
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(64, 8, generator=g), torch.randint(0, 3, (64,), generator=g)
    res = refine(net, (x, y), method=method, steps=3, population=4, batch_size=32, verify_on=None)
    assert sparsity(net) == before == pytest.approx(0.5, abs=0.05)  # the input is left as it was
    assert sparsity(res.model) < before  # its zeros were refined too: the copy is no longer as sparse


@pytest.mark.parametrize("method", ["perturbation", "activity", "sgd"])
def test_keep_zeros_refines_a_pruned_network_as_sparse_as_it_came(method: str) -> None:
    net = build("mlp:8-6-3:relu", seed=0)
    with torch.no_grad():
        for layer in net.layers:
            layer.weight[:, ::2] = 0.0
    zeros = [layer.weight == 0 for layer in net.layers]
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(64, 8, generator=g), torch.randint(0, 3, (64,), generator=g)
    res = refine(net, (x, y), method=method, steps=3, population=4, batch_size=32, verify_on=None, keep_zeros=True)
    for layer, was in zip(res.model.layers, zeros):
        assert torch.equal(layer.weight == 0, was)  # the same zeros, no more, no fewer
    moved = [not torch.equal(a.weight, b.weight) for a, b in zip(res.model.layers, net.layers)]
    assert all(moved)  # the other weights were refined


def test_keep_zeros_changes_nothing_for_a_dense_network() -> None:
    net = build("mlp:8-6-3:relu", seed=0)
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(64, 8, generator=g), torch.randint(0, 3, (64,), generator=g)
    kept, plain = (refine(net, (x, y), steps=3, population=4, batch_size=32, verify_on=None, keep_zeros=k).model
                   for k in (True, False))
    assert all(torch.equal(a, b) for a, b in zip(kept.state_dict().values(), plain.state_dict().values()))


def test_keep_zeros_must_be_a_flag() -> None:
    from metanet.errors import ConfigError

    net = build("mlp:8-6-3:relu", seed=0)
    x, y = torch.rand(8, 8), torch.randint(0, 3, (8,))
    with pytest.raises(ConfigError, match="keep_zeros must be True or False"):
        refine(net, (x, y), steps=1, verify_on=None, keep_zeros="yes")
