"""The node feature columns of ``x`` hold what their NODE_* names say, in a network deep enough to tell them apart.

In ``mlp:3-2-2`` a neuron's layer index (0, 1, 2) equals its kind code (INPUT, HIDDEN, OUTPUT), so a swap of the
layer and kind columns (what a reader would then be fed) went unnoticed there.
"""

from __future__ import annotations

import torch

from metanet.graph import (
    HIDDEN,
    INPUT,
    NODE_ACT,
    NODE_BIAS,
    NODE_HAS_BIAS,
    NODE_KIND,
    NODE_LAYER,
    NODE_POS,
    OUTPUT,
    from_graph,
    to_graph,
)
from metanet.nets import activation_code, build


def test_every_x_column_of_a_four_layer_mlp_holds_its_named_feature() -> None:
    m = build("mlp:2-3-3-3-2:tanh", seed=0)
    g = to_graph(m)
    sizes = [2, 3, 3, 3, 2]
    layer = [float(l) for l, n in enumerate(sizes) for _ in range(n)]
    assert g.x[:, NODE_LAYER].tolist() == layer  # 0 0 1 1 1 2 2 2 3 3 3 4 4: not the kind codes
    kinds = [INPUT] * 2 + [HIDDEN] * 9 + [OUTPUT] * 2
    assert g.x[:, NODE_KIND].tolist() == [float(k) for k in kinds]
    assert g.node_kind.tolist() == kinds and g.node_layer.tolist() == [int(v) for v in layer]
    tanh = float(activation_code("tanh"))
    assert g.x[:, NODE_ACT].tolist() == [0.0] * 2 + [tanh] * 9 + [0.0] * 2
    assert g.x[:, NODE_POS].tolist() == [0.0, 1.0] + [-1.0] * 9 + [0.0, 1.0]
    assert g.x[:, NODE_HAS_BIAS].tolist() == [0.0] * 2 + [1.0] * 11
    biases = [p.detach() for n, p in m.named_parameters() if n.endswith("bias")]
    assert torch.equal(g.x[:, NODE_BIAS], torch.cat([torch.zeros(2), *biases]))
    # and the graph decodes to the same parameters
    back = from_graph(g)
    for (n, p), (n2, q) in zip(m.named_parameters(), back.named_parameters()):
        assert n == n2 and torch.equal(p, q)
