"""An architecture spec names one layout whatever the order of its keys: a hand-written spec dict (or JSON text)
with its keys in another order gives the same ``arch`` string as to_graph of the network, so graphs of both decode
together as one population."""

from __future__ import annotations

import json

import torch
from torch import nn

from metanet.graph import from_graphs, layout, to_graph, to_graphs
from metanet.nets import spec


def _reordered(d):
    if isinstance(d, dict):
        return {k: _reordered(d[k]) for k in reversed(list(d))}
    if isinstance(d, list):
        return [_reordered(v) for v in d]
    return d


def test_a_spec_with_reordered_keys_has_the_networks_arch_key() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))  # its spec is kept as given, not rebuilt
    s = spec(net)
    again = _reordered(s)
    assert list(again) != list(s)  # really another order
    g = to_graph(net)
    assert layout(again).key == g.arch == layout(json.dumps(again)).key
    params = {k: v.detach().unsqueeze(0) for k, v in net.state_dict().items()}
    (h,) = to_graphs(again, params)
    assert h.arch == g.arch
    pop = from_graphs([g, h])  # one architecture, not two
    assert torch.equal(pop.params["0.weight"][1], net[0].weight.detach())
