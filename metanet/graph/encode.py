r"""Networks to neural graphs: :func:`to_graph` for one module, :func:`to_graphs` / :func:`to_batch` for a population
of one architecture given as stacked parameters (no Python loop over weights)."""

from __future__ import annotations

import copy
import os
from typing import Any, Mapping

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch, Data

from metanet.errors import GraphError
from metanet.graph.data import NeuralGraph
from metanet.graph.mapping import Layout, layout
from metanet.io import _warn_user_hooks
from metanet.verify import Network, _is_generated

__all__ = ["to_graph", "to_graphs", "to_batch"]


def _template(lay: Layout, device: torch.device) -> NeuralGraph:
    """A graph holding the layout's structure tensors, copied (shallowly) for every new graph."""
    cache = lay._graph_template
    if cache is None:
        cache = lay._graph_template = {}
    g = cache.get(device)
    if g is None:
        g = cache[device] = NeuralGraph(**lay.structure(device), arch=lay.key)
    return g


def assemble(lay: Layout, x: Tensor, edge_attr: Tensor) -> NeuralGraph:
    """A :class:`NeuralGraph` of ``lay`` with node features ``x`` :math:`(N, D)` and edge values ``edge_attr``
    :math:`(E, F)`; the structure tensors are the layout's (shared)."""
    g = copy.copy(_template(lay, x.device))
    store = g._store._mapping  # plain assignment, skipping Data.__setattr__'s property lookup
    store["x"] = x
    store["edge_attr"] = edge_attr
    return g


def as_network(obj: Any) -> Any:
    """The network ``obj`` stands for, as :func:`metanet.verify` and :func:`metanet.read` take one: a module itself,
    :func:`metanet.generate`'s result (its chosen ``.model``) or the path of a network written by
    :func:`metanet.save` (loaded: FileFormatError if it is none); anything else as it is, for the caller's error."""
    if isinstance(obj, (str, bytes, os.PathLike)):
        from metanet.errors import FileFormatError
        from metanet.io import load

        if not os.fsdecode(obj).strip():  # else read as '.': "is a directory, not a file"
            raise FileFormatError("an empty path names no network; give the path of a network saved with metanet.save")
        return load(os.fsdecode(obj))
    return obj.model if _is_generated(obj) else obj


def to_graph(module: Network, *, edge_dim: int | None = None) -> NeuralGraph:
    r"""Encode a network as a :class:`~metanet.graph.NeuralGraph` (exact: :func:`from_graph` inverts it bit for bit).

    Args:
        module: a metanet :class:`~metanet.nets.MLP` (with or without residual skips) or
            :class:`~metanet.nets.CNN`, or a plain ``nn.Sequential`` of ``Linear``, ``Conv2d`` (groups 1,
            dilation 1, zero padding), ``Flatten``, ``MaxPool2d``, ``AvgPool2d``, ``AdaptiveAvgPool2d(1)``,
            ``Dropout`` (an identity at inference: no nodes or edges) and the activations ``ReLU``, ``Tanh``,
            ``GELU``, ``Sigmoid``, ``LeakyReLU``, ``SiLU``, ``Identity``, with or without biases; or, as
            :func:`metanet.verify` and :func:`metanet.read` take them, :func:`metanet.generate`'s result (its
            ``.model``) or the path of a network written by :func:`metanet.save`.
        edge_dim: :math:`F`, pad edge values to this many columns (default: the largest kernel :math:`k_h k_w` of
            the network, 1 for an MLP). Graphs batch together only if they share :math:`F`: pass the same
            ``edge_dim`` to mix architectures with different kernels in one batch.

    Returns:
        A graph with :math:`N = \sum_l n_l` nodes (one per neuron: input features or input channels, hidden units or
        channels, classes) and one edge per weight or per channel-pair kernel, ordered layer by layer:

        - ``x`` :math:`(N, 6)`: ``[bias, layer, kind, act, pos, has_bias]`` (columns ``NODE_*``);
        - ``edge_index`` :math:`(2, E)`: edges of weight layer :math:`l` go from neuron :math:`i` of layer
          :math:`l-1` to neuron :math:`o` of layer :math:`l`, :math:`e = e_l + o\,n_{l-1} + i`, followed by the
          layer's residual edges :math:`j \to j` if it has a skip;
        - ``edge_attr`` :math:`(E, F)`: :math:`W^{(l)}_{o,i}` in column 0 (linear), the kernel
          :math:`W^{(l)}_{o,i,:,:}` flattened row-major (conv), the :math:`S` weights
          :math:`W^{(l)}_{o,\, iS:(i+1)S}` (linear after ``Flatten`` of a conv output with :math:`S` positions),
          1 for residual edges; zero padding elsewhere;
        - ``node_kind``, ``node_layer``, ``node_act``, ``node_pos`` :math:`(N,)`, ``edge_kind`` :math:`(E,)`;
        - ``arch``: the canonical spec JSON.

        Values are detached copies of the parameters, in their dtype and on their device.

    Raises:
        GraphError: an unsupported module or layer (the message names it and lists what is supported), shapes
            that do not match between consecutive layers, or a wrapped network (TorchScript, ``torch.compile``,
            ``nn.DataParallel``, ``torch.nn.utils.parametrize``, the older ``weight_norm`` / ``spectral_norm`` or
            ``torch.nn.utils.prune``: the message says what to pass). A network on the meta device encodes
            (a graph of its architecture, with meta values).
        FileFormatError: a path that is no network file (see :func:`metanet.load`).

    Warns:
        UserWarning: the module or a submodule carries forward hooks or pre-hooks of the user's, naming them: hooks
            are not encoded, so the network :func:`from_graph` decodes runs without them.
    """
    module = as_network(module)
    if not isinstance(module, nn.Module):
        if isinstance(module, Data):  # a graph already: re-encoding one goes through its network
            raise GraphError(f"to_graph() got a {type(module).__name__}, which is already a graph; to encode it "
                             "again (e.g. with another edge_dim) use to_graph(from_graph(graph), edge_dim=...)")
        raise GraphError(f"to_graph() needs an nn.Module, got {type(module).__name__}; for stacked parameters use "
                         "to_graphs(arch, params) or to_batch(arch, params)")
    from metanet.nets.spec import wrapper_problem

    problem = wrapper_problem(module)  # else a raw KeyError (parametrize) deep in the layout
    if problem:
        raise GraphError(f"cannot encode this {type(module).__name__}: {problem}")
    lay = layout(module)
    f = lay._check_dim(edge_dim)
    params = lay.params_of(module, detach=False)
    if sum(1 for _ in module.parameters()) > len(params):  # e.g. a parameter registered on a layer by hand
        extra = [k for k, _ in module.named_parameters() if k not in params]
        raise GraphError(f"the module has parameters a neural graph cannot hold, which would be lost: {extra[:4]}; "
                         f"{lay.describe_arch()} has exactly {', '.join(params)}")
    _check_dtypes(params)
    with torch.no_grad():
        edge_attr, bias = lay._from_params(params, (), f)
        x = lay.node_features(bias)
    # metanet.read and the graph drawings encode through here too: they read the weights without the hooks as well
    _warn_user_hooks(module, "the neural graph", "the network from_graph decodes from it (and what metanet.read reads)")
    return assemble(lay, x, edge_attr)


def _check_dtypes(params: Mapping[str, Tensor]) -> None:
    """One floating-point dtype for all parameters: ``torch.cat`` would promote mixed ones (the graph would decode to
    another network), and from_graph refuses integer graphs."""
    for name, p in params.items():  # torch.cat / reshape would fail on them deep inside with a raw RuntimeError
        if p.layout != torch.strided:
            raise GraphError(f"network parameters must be dense tensors; {name!r} is {p.layout} (convert it with "
                             "p.to_dense() first)")
    items = iter(params.items())
    first, ref = next(items)
    if not ref.is_floating_point():
        raise GraphError(f"network parameters must be floating-point tensors; {first!r} is {ref.dtype}")
    for name, p in items:
        if p.dtype != ref.dtype:
            what = "floating-point tensors of one dtype" if p.is_floating_point() else "floating-point tensors"
            raise GraphError(f"network parameters must be {what}; {first!r} is {ref.dtype} and {name!r} is {p.dtype}")


def _population(arch: Any, params: Mapping[str, Tensor], edge_dim: int | None) -> tuple[Layout, Tensor, Tensor]:
    lay = layout(arch)
    lead = lay._lead(params)
    if len(lead) != 1:
        raise GraphError(
            f"stacked parameters need exactly one leading population dimension (P, *shape); got leading shape "
            f"{tuple(lead)}"
        )
    _check_dtypes(params)
    with torch.no_grad():
        edge_attr, bias = lay.from_params({k: v.detach() for k, v in params.items()}, edge_dim)
        x = lay.node_features(bias)
    return lay, x, edge_attr


def to_graphs(arch: Any, params: Mapping[str, Tensor], *, edge_dim: int | None = None) -> list[NeuralGraph]:
    r"""Encode a population of P networks of one architecture, given as stacked parameters.

    The values of all P graphs are computed at once (no Python loop over weights); the graphs are views into two
    shared tensors of shape :math:`(P, N, 6)` and :math:`(P, E, F)`, and share the structure tensors.

    Args:
        arch: the architecture: a module of it, a spec dict / JSON, an :class:`~metanet.nets.Arch` or its string,
            or a :class:`~metanet.graph.Layout`.
        params: ``{name: (P, *shape)}`` as ``torch.func.stack_module_state`` or a zoo shard gives them.
        edge_dim: see :func:`to_graph`.

    Returns:
        ``P`` :class:`NeuralGraph` objects, each equal to ``to_graph`` of the corresponding network.
    """
    lay, x, edge_attr = _population(arch, params, edge_dim)
    return [assemble(lay, x[p], edge_attr[p]) for p in range(x.shape[0])]


def to_batch(arch: Any, params: Mapping[str, Tensor], *, edge_dim: int | None = None) -> Batch:
    r"""Encode a population of P networks of one architecture as one PyG ``Batch``, fully vectorised.

    Equivalent to ``Batch.from_data_list(to_graphs(arch, params))`` (same attributes, ``batch``/``ptr`` vectors,
    and ``to_data_list()`` / indexing work), without building P graphs first.

    Shapes:
        - x: :math:`(P N, 6)`, edge_index: :math:`(2, P E)` (node ids offset by :math:`pN`),
          edge_attr: :math:`(P E, F)`, node_*: :math:`(P N,)`, edge_kind: :math:`(P E,)`,
          batch: :math:`(P N,)`, ptr: :math:`(P + 1,)`, arch: list of P strings
    """
    lay, x, edge_attr = _population(arch, params, edge_dim)
    p, n, e = x.shape[0], lay.num_nodes, lay.num_edges
    device = x.device
    st = lay.structure(device)
    graphs = torch.arange(p, device=device)
    node_off = graphs * n
    batch = Batch(_base_cls=NeuralGraph)
    # explicit widths: with P = 0 a -1 would be ambiguous
    batch.x = x.reshape(p * n, x.shape[-1])
    batch.edge_index = (st["edge_index"].unsqueeze(1) + node_off.view(1, p, 1)).reshape(2, p * e)
    batch.edge_attr = edge_attr.reshape(p * e, edge_attr.shape[-1])
    for k in ("node_kind", "node_layer", "node_act", "node_pos"):
        setattr(batch, k, st[k].repeat(p))
    batch.edge_kind = st["edge_kind"].repeat(p)
    batch.arch = [lay.key] * p
    batch.batch = graphs.repeat_interleave(n)
    batch.ptr = torch.arange(p + 1, device=device) * n
    nodes, edges, zeros = batch.ptr, torch.arange(p + 1, device=device) * e, torch.zeros(p, dtype=torch.long,
                                                                                         device=device)
    batch._slice_dict = {
        "x": nodes, "edge_index": edges, "edge_attr": edges, "node_kind": nodes, "node_layer": nodes,
        "node_act": nodes, "node_pos": nodes, "edge_kind": edges, "arch": torch.arange(p + 1, device=device),
    }
    batch._inc_dict = {
        "x": zeros, "edge_index": node_off, "edge_attr": zeros, "node_kind": zeros, "node_layer": zeros,
        "node_act": zeros, "node_pos": zeros, "edge_kind": zeros, "arch": None,
    }
    batch._num_graphs = p
    return batch
