"""A Linear layer with no inputs (nn.Linear(0, n): torch builds it, with a warning) has no neurons to read; a neural
graph of it would have an empty input layer, so to_graph and layout refuse it by name rather than encode it."""

from __future__ import annotations

import warnings

import pytest
from torch import nn

from metanet.errors import GraphError
from metanet.graph import layout, to_graph


def test_a_linear_layer_without_inputs_is_refused() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch: "Initializing zero-element tensors is a no-op"
        net = nn.Sequential(nn.Linear(0, 2))
    with pytest.raises(GraphError, match=r"layer 0 \(Linear 0->2\): 'in' must be a positive integer, got 0"):
        to_graph(net)
    spec = {"family": "sequential", "layers": [{"type": "linear", "in": 0, "out": 2, "bias": True}]}
    with pytest.raises(GraphError, match="'in' must be a positive integer, got 0"):
        layout(spec)
