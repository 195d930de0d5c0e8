"""Neural graphs: every supported network as a PyG graph of neurons (nodes) and weights (edges), exactly.

After Kofinas et al., ICLR 2024 ("Graph neural networks for learning equivariant representations of neural
networks"): one node per neuron, one edge per weight (per kernel for convolutions), residual connections as edges
of their own kind. Permuting the hidden neurons of a network only relabels the nodes of its graph.

- :func:`to_graph` / :func:`from_graph`: one network <-> one :class:`NeuralGraph` (bit-exact round trip);
- :func:`to_graphs` / :func:`to_batch` / :func:`from_graphs`: a population of one architecture, stacked
  parameters <-> graphs or one PyG ``Batch``, vectorised; :func:`split` a ``Batch`` back into graphs;
- :func:`layout` -> :class:`Layout`: the differentiable parameter <-> graph-value mapping of an architecture,
  for readers and writers (``to_params`` / ``from_params`` / ``node_features``); :func:`batch_params` applies it
  to a whole mixed-architecture ``Batch`` (e.g. a writer's per-edge outputs -> parameters per architecture);
- :func:`permute_hidden`: the same function with hidden neurons reordered; :func:`describe`, :func:`plot`.

Importing the package itself is cheap (the CLI imports ``metanet.graph.cli``); the submodules, and with them
PyTorch Geometric, load on first use of a name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from metanet._lazy import lazy_attributes

# public name -> submodule defining it
_LAZY = {
    **dict.fromkeys(
        ["NeuralGraph", "NeuralGraphBatch", "NODE_BIAS", "NODE_LAYER", "NODE_KIND", "NODE_ACT", "NODE_POS", "NODE_HAS_BIAS",
         "NODE_FEATURES", "NODE_DIM", "INPUT", "HIDDEN", "OUTPUT", "NODE_KINDS", "EDGE_WEIGHT", "EDGE_RESIDUAL",
         "EDGE_KINDS"],
        "data",
    ),
    **dict.fromkeys(["to_graph", "to_graphs", "to_batch"], "encode"),
    **dict.fromkeys(["from_graph", "from_graphs", "to_state_dict", "split", "Population"], "decode"),
    **dict.fromkeys(["Layout", "Slot", "layout"], "mapping"),
    **dict.fromkeys(["batch_params", "ParamGroup"], "batching"),
    **dict.fromkeys(["describe", "Description", "LayerSummary"], "summary"),
    "plot": "drawing",
    **dict.fromkeys(["permute_hidden", "tied_layers"], "permute"),
    **dict.fromkeys(["SUPPORTED", "WeightLayer"], "plan"),
}

__all__ = [
    "NeuralGraph",
    "NeuralGraphBatch",
    "to_graph",
    "from_graph",
    "to_graphs",
    "to_batch",
    "from_graphs",
    "to_state_dict",
    "split",
    "Population",
    "Layout",
    "Slot",
    "WeightLayer",
    "layout",
    "batch_params",
    "ParamGroup",
    "describe",
    "Description",
    "LayerSummary",
    "plot",
    "permute_hidden",
    "tied_layers",
    "SUPPORTED",
    "NODE_BIAS",
    "NODE_LAYER",
    "NODE_KIND",
    "NODE_ACT",
    "NODE_POS",
    "NODE_HAS_BIAS",
    "NODE_FEATURES",
    "NODE_DIM",
    "INPUT",
    "HIDDEN",
    "OUTPUT",
    "NODE_KINDS",
    "EDGE_WEIGHT",
    "EDGE_RESIDUAL",
    "EDGE_KINDS",
]


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from metanet.graph.batching import ParamGroup, batch_params
    from metanet.graph.data import (
        EDGE_KINDS,
        EDGE_RESIDUAL,
        EDGE_WEIGHT,
        HIDDEN,
        INPUT,
        NODE_ACT,
        NODE_BIAS,
        NODE_DIM,
        NODE_FEATURES,
        NODE_HAS_BIAS,
        NODE_KIND,
        NODE_KINDS,
        NODE_LAYER,
        NODE_POS,
        OUTPUT,
        NeuralGraph,
        NeuralGraphBatch,
    )
    from metanet.graph.decode import Population, from_graph, from_graphs, split, to_state_dict
    from metanet.graph.summary import Description, LayerSummary, describe
    from metanet.graph.encode import to_batch, to_graph, to_graphs
    from metanet.graph.mapping import Layout, Slot, layout
    from metanet.graph.permute import permute_hidden, tied_layers
    from metanet.graph.plan import SUPPORTED, WeightLayer
    from metanet.graph.drawing import plot


__getattr__ = lazy_attributes(__name__, _LAZY)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
