"""The node head's role logits of a network do not depend on which other networks share its batch: every
neuron is read with its own network's readout (a batch read with the first network's would give every later
network the first one's roles)."""

from __future__ import annotations

import torch
from reader_helpers import tiny_reader

from metanet.graph import to_graph
from metanet.nets import build
from metanet.reader.model import batch_graphs


def test_role_logits_in_a_batch_equal_those_of_each_network_alone() -> None:
    r = tiny_reader()
    graphs = [to_graph(build("mlp:64-16-10:relu", seed=1)), to_graph(build("mlp:64-16-10:tanh", seed=2)),
              to_graph(build("mlp:64-8-8-10:relu", seed=3))]
    with torch.no_grad():
        together = r(batch_graphs(graphs))["role"]
        alone = [r(g)["role"] for g in graphs]
    torch.testing.assert_close(together, torch.cat(alone), atol=1e-4, rtol=1e-4)
    # and the batch is no copy of one network's roles: the networks are read apart
    assert not torch.allclose(alone[0], alone[1], atol=1e-3)
