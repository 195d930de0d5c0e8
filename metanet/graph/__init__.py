"""Neural graphs: every supported network as a PyG graph of neurons (nodes) and weights (edges), exactly.

After Kofinas et al., ICLR 2024 ("Graph neural networks for learning equivariant representations of neural
networks"): one node per neuron, one edge per weight (per kernel for convolutions), residual connections as edges
of their own kind. Permuting the hidden neurons of a network only relabels the nodes of its graph.

- :func:`to_graph` / :func:`from_graph`: one network <-> one :class:`NeuralGraph` (bit-exact round trip);
- :func:`to_graphs` / :func:`to_batch` / :func:`from_graphs`: a population of one architecture, stacked
  parameters <-> graphs or one PyG ``Batch``, vectorised; :func:`split` a ``Batch`` back into graphs;
- :func:`layout` -> :class:`Layout`: the differentiable parameter <-> graph-value mapping of an architecture,
  for readers and writers (``to_params`` / ``from_params`` / ``node_features``);
- :func:`permute_hidden`: the same function with hidden neurons reordered; :func:`describe`, :func:`plot`.
"""

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
)
from metanet.graph.decode import Population, from_graph, from_graphs, split
from metanet.graph.describe import Description, LayerSummary, describe
from metanet.graph.encode import to_batch, to_graph, to_graphs
from metanet.graph.layout import Layout, Slot, layout
from metanet.graph.permute import permute_hidden, tied_layers
from metanet.graph.plan import SUPPORTED, WeightLayer
from metanet.graph.plot import plot

__all__ = [
    "NeuralGraph",
    "to_graph",
    "from_graph",
    "to_graphs",
    "to_batch",
    "from_graphs",
    "split",
    "Population",
    "Layout",
    "Slot",
    "WeightLayer",
    "layout",
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
