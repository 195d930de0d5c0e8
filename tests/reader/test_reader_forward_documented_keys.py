"""``Reader.forward`` returns the heads the ``metanet.reader.model`` module docstring lists ("Graph heads ...
Node head ... ``embedding``"), no more and no fewer, with the documented shapes."""

from __future__ import annotations

import re

import torch

from metanet import graph
from metanet.nets import build
from metanet.reader import model as reader_model
from metanet.reader.model import Reader, role_names


def test_forward_returns_the_documented_heads():
    doc = reader_model.__doc__
    part = doc[doc.index("Graph heads"):doc.index("Every output is invariant")]
    named = set(re.findall(r"``(\w+)``", part)) - {"forward", "tasks"}  # the method and the constructor option
    torch.manual_seed(0)
    reader = Reader(tasks=("digits",), probes=4, probe_inputs=(64,))
    graphs = [graph.to_graph(build("mlp:64-8-10", seed=s)) for s in range(2)]
    reader.fit_normalisation(graphs)
    with torch.no_grad():
        out = reader(graphs)
    assert set(out) == named
    assert out["accuracy"].shape == (2,) and out["task"].shape == (2, 1)
    assert out["role"].shape == (sum(g.num_nodes for g in graphs), len(role_names(reader.num_classes)))
