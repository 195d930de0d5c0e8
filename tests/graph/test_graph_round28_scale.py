"""Round 28: neural graphs of wide networks: the layout cache is bounded by size, not only by count."""

from __future__ import annotations

import gc
import weakref

import torch

import metanet.graph.mapping as mapping
from metanet.graph import from_graph, layout, to_graph
from metanet.nets import build


def test_layout_cache_drops_least_recent_layouts_beyond_its_edge_budget(monkeypatch):
    # every Layout holds ~56 bytes per edge; 256 cached wide layouts (a width sweep) held tens of GB
    monkeypatch.setattr(mapping, "_CACHE_EDGES", 2_000, raising=False)
    archs = [f"mlp:{w}-{w}-3:relu" for w in (31, 32, 33)]  # 1,054 / 1,120 / 1,188 edges: two never fit together
    first = weakref.ref(layout(archs[0]))
    for a in archs[1:]:
        layout(a)
    model = build(archs[1], seed=0)  # the same architecture by other routes (module, Arch) is cached too
    layout(model)
    gc.collect()
    assert first() is None, "a layout beyond the cache's edge budget is still alive"
    assert layout(archs[2]) is layout(archs[2])  # the newest layout stays cached
    # an evicted architecture is rebuilt on demand and still encodes / decodes exactly
    g = to_graph(model)
    back = from_graph(g)
    assert all(torch.equal(a, b) for a, b in zip(back.state_dict().values(), model.state_dict().values()))
