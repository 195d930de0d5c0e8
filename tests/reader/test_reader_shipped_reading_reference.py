"""The shipped reader's raw outputs on one fixed network, pinned: every other reader test checks properties
(invariances, ranges, the documented error on trained networks) that a changed forward pass keeps, so dropping the
message-passing residual or passing backward messages along the forward edges went unnoticed while every reading
of the shipped reader changed. Retraining the shipped checkpoint changes these numbers: update them then."""

from __future__ import annotations

import torch
from reader_helpers import needs_shipped

from metanet.graph import to_graph
from metanet.nets import build
from metanet.reader import Reader


@needs_shipped
def test_the_shipped_readers_outputs_on_a_fixed_network() -> None:
    r = Reader.load()
    g = to_graph(build("mlp:64-16-10:relu", seed=1))  # untrained: 64 input, 16 hidden (nodes 64..79), 10 output nodes
    with torch.no_grad():
        out = r(g)
    close = dict(atol=1e-3, rtol=1e-4)
    torch.testing.assert_close(out["accuracy"], torch.tensor([0.095799]), **close)
    torch.testing.assert_close(out["backdoor"], torch.tensor([-18.594740]), **close)
    assert r.tasks[0] == "digits"
    torch.testing.assert_close(out["task"][0, 0], torch.tensor(-6.529679), **close)
    assert bool((out["task"][0, 1:] == -1e4).all())  # no other task of 64 inputs and 10 classes
    torch.testing.assert_close(out["embedding"][0, :6],
                               torch.tensor([0.000000, 4.560323, 3.590856, 0.459689, 0.000000, 5.308667]), **close)
    torch.testing.assert_close(out["role"][64:68], torch.tensor([
        [-1.055776, 2.242547, -0.386266, -0.179021, -0.633291, -1.121656, -1.272803, 2.480869, 0.702797, -0.788509,
         -0.767547, 1.385045],
        [-2.670274, 5.118381, -0.427668, 1.556454, -0.208788, -0.679631, 1.414803, -2.936078, 0.467039, -3.122324,
         -1.529275, -3.415015],
        [-0.776933, 2.398460, -1.610347, -2.484117, -0.773039, -2.618301, 3.269906, -1.243709, -2.604081, 3.384220,
         -0.292189, 0.156136],
        [-9.877936, 6.743958, -2.371196, -3.474555, -1.947582, -1.309154, -2.819977, -4.490950, -2.562228, 0.686782,
         -1.795646, 2.386196]]), **close)
