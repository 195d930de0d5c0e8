"""from_graph / to_state_dict decode a graph whose ``x`` or ``edge_attr`` is not contiguous (e.g. a slice of a
wider tensor) to the same parameters as the graph to_graph made: that path does not take the strided
fast path, and must still read the biases from the NODE_BIAS column."""

from __future__ import annotations

import copy

import pytest
import torch

from metanet.graph import from_graph, from_graphs, to_graph, to_state_dict
from metanet.nets import build


def _noncontiguous(t: torch.Tensor) -> torch.Tensor:
    out = torch.cat([t, torch.full_like(t, 7.0)], dim=1)[:, : t.shape[1]]  # the left half of a wider tensor
    assert not out.is_contiguous() and torch.equal(out, t)
    return out


@pytest.mark.parametrize("which", ["x", "edge_attr"])
@pytest.mark.parametrize("arch", ["mlp:3-4-2:relu", "cnn:1-2-3:relu:k3"])
def test_a_non_contiguous_graph_decodes_to_the_encoded_parameters(which: str, arch: str) -> None:
    m = build(arch, seed=1)
    g = copy.copy(to_graph(m))
    setattr(g, which, _noncontiguous(getattr(g, which)))
    want = {k: v.detach() for k, v in m.state_dict().items()}
    got = to_state_dict(g)
    assert got.keys() == want.keys()
    for k in want:
        assert torch.equal(got[k], want[k]), k
    back = from_graph(g)
    assert all(torch.equal(back.state_dict()[k], want[k]) for k in want)
    pop = from_graphs([g, g])
    assert all(torch.equal(pop.params[k][1], want[k]) for k in want)
