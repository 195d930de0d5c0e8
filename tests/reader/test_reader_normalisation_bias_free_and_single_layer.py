"""The reader's input normalisation reads only the slots a network has: a bias-free neuron's normalised bias is 0
whatever the fitted bias statistics (it has no bias to standardise, and fitting leaves it out of them), and the
first layer's weights are standardised with the statistics of the slot they go into -- layer 1's output slot for a
single-layer network, layer 1's hidden slot otherwise (Reader._edge_slot, the slot fit_normalisation fills)."""

from __future__ import annotations

import torch
from reader_helpers import tiny_reader
from torch import nn

from metanet.graph import to_graph


def _net(*sizes: int, bias: bool = True) -> nn.Sequential:
    torch.manual_seed(3)
    mods: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        mods += [nn.ReLU()] * (i > 0) + [nn.Linear(a, b, bias=bias)]
    return nn.Sequential(*mods)


def _outputs(reader, graph) -> dict[str, torch.Tensor]:
    with torch.no_grad():
        out = reader(graph)
    return {k: v for k, v in out.items() if v.is_floating_point()}


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_a_bias_free_networks_reading_does_not_depend_on_the_bias_statistics():
    reader = tiny_reader()
    bias_free, biased = to_graph(_net(64, 16, 10, bias=False)), to_graph(_net(64, 16, 10))
    before = {"free": _outputs(reader, bias_free), "biased": _outputs(reader, biased)}
    reader.b_norm[:, 0] = 0.7  # another fitted bias mean and std in every slot
    reader.b_norm[:, 1] = 2.0
    assert _same(_outputs(reader, bias_free), before["free"])
    # the statistics do reach the features of a network with biases: the check above can fail
    assert not _same(_outputs(reader, biased), before["biased"])


def test_fitting_leaves_bias_free_neurons_out_of_the_bias_statistics():
    biased = to_graph(_net(64, 16, 10))
    alone = tiny_reader().fit_normalisation([biased])
    mixed = tiny_reader().fit_normalisation([biased, to_graph(_net(64, 16, 10, bias=False))])
    assert torch.equal(mixed.b_norm, alone.b_norm)
    assert not torch.equal(alone.b_norm[:4], torch.tensor([[0.0, 1.0]]).repeat(4, 1))  # fitted: not the defaults


def _changed_slot(slot: int, graph) -> bool:
    """Whether the reader's outputs for ``graph`` change when weight-normalisation slot ``slot`` does."""
    reader = tiny_reader()
    before = _outputs(reader, graph)
    reader.w_norm[slot] = torch.tensor([0.3, 0.05])
    return not _same(_outputs(reader, graph), before)


def test_a_single_layer_networks_weights_are_standardised_with_the_output_slot():
    single = to_graph(_net(64, 10))
    assert int(tiny_reader()._edge_slot(torch.tensor([1]), torch.tensor([2]))) == 1  # layer 1, output neurons
    assert _changed_slot(1, single)
    assert not _changed_slot(0, single)  # layer 1's hidden slot: a single-layer network has no hidden neuron


def test_a_deeper_networks_first_layer_is_standardised_with_the_hidden_slot():
    deep = to_graph(_net(64, 16, 10))
    assert _changed_slot(0, deep)
    assert not _changed_slot(1, deep)  # layer 1's output slot: only a single-layer network has one
