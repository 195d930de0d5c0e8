r"""`NeuralGraph`: a network as a PyG graph of neurons (nodes) and weights (edges), and its column layout.

The feature columns and integer codes here are part of the graph format: readers, writers and stored data sets
rely on them. Append new columns or codes only at the end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor
import torch_geometric.data.batch as _pyg_batch
from torch_geometric.data import Batch, Data

if TYPE_CHECKING:  # pragma: no cover
    from metanet.graph.mapping import Layout

__all__ = [
    "NeuralGraph",
    "NeuralGraphBatch",
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

# --- node feature columns of ``x`` ----------------------------------------------------------------
#: bias of the neuron (0.0 for input neurons and for layers without a bias)
NODE_BIAS = 0
#: neuron layer index: 0 for the input, l for the outputs of the l-th weight layer (1-based)
NODE_LAYER = 1
#: node kind code (:data:`INPUT`, :data:`HIDDEN`, :data:`OUTPUT`)
NODE_KIND = 2
#: activation code of the layer (``metanet.nets.activation_code``; 0 = identity)
NODE_ACT = 3
#: position of an input / output neuron (feature, channel or class index); -1 for hidden neurons
NODE_POS = 4
#: 1.0 if the neuron has a bias parameter, else 0.0
NODE_HAS_BIAS = 5
NODE_FEATURES = ("bias", "layer", "kind", "act", "pos", "has_bias")
NODE_DIM = len(NODE_FEATURES)

# --- node kinds ----------------------------------------------------------------------------------
INPUT, HIDDEN, OUTPUT = 0, 1, 2
NODE_KINDS = ("input", "hidden", "output")

# --- edge kinds ----------------------------------------------------------------------------------
#: one weight (Linear) or one kernel (Conv2d channel pair) of the network
EDGE_WEIGHT = 0
#: a residual connection ``h_l = h_{l-1} + f(h_{l-1})``: neuron j of layer l-1 to neuron j of layer l, weight 1
EDGE_RESIDUAL = 1
EDGE_KINDS = ("weight", "residual")


class NeuralGraph(Data):
    r"""A neural network as a graph: one node per neuron, one edge per weight (per kernel for convolutions).

    Built by :func:`~metanet.graph.to_graph` and turned back into a module by :func:`~metanet.graph.from_graph`
    (bit-exact). A plain :class:`torch_geometric.data.Data` subclass: ``Batch.from_data_list`` and
    ``torch_geometric.loader.DataLoader`` batch it without custom collate code, and ``Batch.to_data_list``
    gives ``NeuralGraph`` objects back. Graphs batch together only with the same edge width :math:`F`: an MLP's
    graph has 1 column, a 3x3 CNN's 9, and PyG's collate concatenates them as they are (a raw ``torch.cat`` size
    mismatch; it has no hook where metanet could check them first). To mix them, encode every graph with one
    ``edge_dim`` (``to_graph(net, edge_dim=9)``), or batch them with :func:`metanet.reader.model.batch_graphs`,
    which zero-pads ``edge_attr`` to the widest graph's.

    Saving: PyG's ``Data`` pickles internal classes that ``torch.load(weights_only=True)`` refuses, so a graph
    written with ``torch.save(graph, f)`` loads only through a full (unsafe) unpickle. Save its tensors instead, as
    PyG's own ``InMemoryDataset.save`` does: ``torch.save(graph.to_dict(), f)``, then
    ``NeuralGraph.from_dict(torch.load(f, weights_only=True))`` (a list of such dicts for several graphs, e.g.
    ``batch.to_data_list()``); or ``InMemoryDataset.save(graphs, path)`` and ``self.load(path,
    data_cls=NeuralGraph)`` in a dataset. Both are weights-only loads: this class is allowlisted for them.

    **Nodes** are ordered layer by layer (input neurons, then the outputs of weight layer 1, 2, ..., L) and by
    neuron index within a layer. Input neurons are the input features of an MLP or the input channels of a CNN;
    a convolution's neurons are its output channels. Pooling, ``Flatten`` and activations are not neurons; they
    are recorded in :attr:`arch`. Node feature columns of ``x`` (named constants in :mod:`metanet.graph`):

    ========  ====================  =================================================================
    column    constant              value
    ========  ====================  =================================================================
    0         ``NODE_BIAS``         the neuron's bias (0 for input neurons and bias-free layers)
    1         ``NODE_LAYER``        neuron layer :math:`l \in \{0, \dots, L\}`
    2         ``NODE_KIND``         0 input, 1 hidden, 2 output
    3         ``NODE_ACT``          activation code applied to the layer (``metanet.nets.activation_code``)
    4         ``NODE_POS``          index of an input / output neuron; -1 for hidden neurons
    5         ``NODE_HAS_BIAS``     1 if the neuron has a bias parameter
    ========  ====================  =================================================================

    ``x`` has the network's dtype, so in ``float16`` (``bfloat16``) the ``NODE_POS`` column is exact only up to index
    2048 (256); ``node_pos`` (int64) always holds the exact index.

    **Edges** point forward (source in layer :math:`l-1`, target in layer :math:`l`) and are ordered by weight
    layer; within layer :math:`l` first its weight edges in the row-major order of the weight
    (:math:`e = o \cdot n_{l-1} + i` from input neuron :math:`i` to output neuron :math:`o`), then its residual
    edges (:math:`j \to j`) if the layer has a skip. ``edge_attr[e]`` holds the weight of edge :math:`e`: a
    linear weight in column 0; a :math:`k_h \times k_w` kernel flattened row-major into columns
    :math:`0 .. k_h k_w - 1`; a linear layer reading a ``Flatten`` of :math:`S` positions per channel has one edge
    per (output, channel) holding the :math:`S` weights of that channel. Residual edges hold 1.0 in column 0.
    Every other column is zero padding up to the graph's edge width :math:`F` (see :meth:`edge_mask`).

    Args:
        x: node features.
        edge_index: graph connectivity (source, target).
        edge_attr: edge weights, zero-padded to :math:`F` columns.
        node_kind: node kind codes (``INPUT``, ``HIDDEN``, ``OUTPUT``).
        node_layer: neuron layer of every node.
        node_act: activation code of every node's layer.
        node_pos: input / output index, -1 for hidden neurons.
        edge_kind: ``EDGE_WEIGHT`` or ``EDGE_RESIDUAL``.
        arch: canonical JSON (``str``) of the network's spec (:func:`metanet.nets.spec`): everything
            :func:`~metanet.graph.from_graph` needs besides the values. In a ``Batch`` it becomes a list.
        **kwargs: further attributes, as for :class:`torch_geometric.data.Data` (e.g. ``y``).

    Shapes:
        - x: :math:`(N, 6)` with :math:`N = \sum_{l=0}^{L} n_l` neurons
        - edge_index: :math:`(2, E)`, :math:`E = \sum_l n_{l-1} n_l + \sum_{l\,\text{residual}} n_l`
        - edge_attr: :math:`(E, F)`, :math:`F \ge \max(1, \max_l k_h k_w)`
        - node_kind, node_layer, node_act, node_pos: :math:`(N,)` int64
        - edge_kind: :math:`(E,)` int64

    Note:
        Graphs made by :func:`~metanet.graph.to_graph` share their structure tensors (``edge_index``,
        ``edge_kind``, ``node_*``) with the cached :class:`~metanet.graph.Layout` of their architecture, which
        makes encoding cheap. Treat them as read-only (replace, do not modify in place).
    """

    def __init__(
        self,
        x: Tensor | None = None,
        edge_index: Tensor | None = None,
        edge_attr: Tensor | None = None,
        node_kind: Tensor | None = None,
        node_layer: Tensor | None = None,
        node_act: Tensor | None = None,
        node_pos: Tensor | None = None,
        edge_kind: Tensor | None = None,
        arch: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(x=x, edge_index=edge_index, edge_attr=edge_attr, **kwargs)
        for key, value in (
            ("node_kind", node_kind),
            ("node_layer", node_layer),
            ("node_act", node_act),
            ("node_pos", node_pos),
            ("edge_kind", edge_kind),
            ("arch", arch),
        ):
            if value is not None:
                setattr(self, key, value)

    @property
    def layout(self) -> "Layout":
        """The :class:`~metanet.graph.Layout` of this graph's architecture (cached per architecture); a one-graph
        ``Batch`` counts as its graph, a batch of several raises :class:`~metanet.errors.GraphError`."""
        from metanet.graph.mapping import layout

        return layout(self._single_arch())

    @property
    def edge_dim(self) -> int:
        """:math:`F`, the number of ``edge_attr`` columns."""
        return int(self.edge_attr.shape[-1])

    def edge_mask(self) -> Tensor:
        """Boolean :math:`(E, F)` mask of the ``edge_attr`` entries that hold real weights (the rest is padding)."""
        return self.layout.edge_mask(self.edge_dim)

    def _single_arch(self) -> Any:
        from metanet.errors import GraphError

        arch = getattr(self._store, "arch", None) if "arch" in self._store else None
        if arch is None:
            raise GraphError("the graph has no 'arch' attribute; graphs made by metanet.graph.to_graph carry one")
        if isinstance(arch, (list, tuple)):
            # a one-graph Batch (DataLoader with batch_size=1) is its graph, as from_graph / describe / plot take it;
            # its x / edge_attr are the graph's, so layout and edge_mask() fit them
            from torch_geometric.data import Batch

            if isinstance(self, Batch) and len(arch) == 1 and self.num_graphs == 1:
                return arch[0]
            raise GraphError(
                f"this is a batch of {len(arch)} graphs; split it with metanet.graph.split(batch) "
                "or decode it as a population with metanet.graph.from_graphs(batch)"
            )
        return arch


# PyG allowlists its own Data classes for torch.load(weights_only=True), which InMemoryDataset.load uses; unlisted, a
# saved dataset of neural graphs loads only through a warned fallback to a full (unsafe) unpickle
if hasattr(torch.serialization, "add_safe_globals"):
    torch.serialization.add_safe_globals([NeuralGraph])


class _BatchMeta(type(Batch), type(NeuralGraph)):  # type: ignore[misc]
    """The metaclass PyG's ``DynamicInheritance`` gives a ``Batch`` of a ``Data`` subclass (it resolves the two)."""


class NeuralGraphBatch(Batch, NeuralGraph, metaclass=_BatchMeta):
    """The class of every PyG ``Batch`` of neural graphs (``Batch.from_data_list``, ``DataLoader``,
    :func:`~metanet.graph.to_batch`): PyG's own, with graph indexing that counts negative indices from the end.

    PyG read ``batch[-k]`` against its offset tables as is: nodes and edges of graph ``n-k+1`` with the ``arch`` and
    node offset of graph ``n-k``, so ``batch[-1]`` was a bare ``narrow()`` RuntimeError and ``batch[-2]`` a graph whose
    edges point outside its nodes; ``batch[n]`` spoke of index ``n+1``.
    """

    def get_example(self, idx: int) -> NeuralGraph:
        """Graph ``idx`` of the batch (an integer; negative ones count from the end), as PyG's ``get_example``."""
        from metanet.errors import as_index

        n = self.num_graphs
        i = as_index(idx)  # numpy and 0-d torch integers too; a bool is no graph index (True read as graph 1)
        if i is None:
            raise IndexError(f"graph index {idx!r:.40} is not an integer; index a batch of {n} graphs with one in "
                             f"{-n}..{n - 1}, or select several with a slice, a list, or an integer or boolean tensor")
        if not -n <= i < n:
            raise IndexError(f"graph index {i} is out of range for a batch of {n} graphs"
                             + (f" (valid: {-n}..{n - 1})" if n else ""))
        return super().get_example(i % n)


# PyG makes the Batch class of a Data subclass on first use, under this name in its batch module, and reuses it from
# there (also when unpickling a batch): registered first, ours is the class of every batch of neural graphs
setattr(_pyg_batch, NeuralGraphBatch.__name__, NeuralGraphBatch)
