r"""Neural graphs back to networks: :func:`from_graph` for one graph, :func:`from_graphs` for a population of one
architecture (stacked parameters, ready for :func:`metanet.verify.verify_stacked`), :func:`split` for a ``Batch``.

Every graph is checked against the layout of its ``arch`` before any value is used: a malformed graph (wrong
node or edge count, edges between layers the architecture does not connect, unknown node or edge kinds,
features that disagree with the architecture, NaN / inf values, a residual edge whose weight is not 1, a bias on a
neuron without one) raises :class:`~metanet.errors.GraphError`, never a silently different network.
"""

from __future__ import annotations

import json
import math
from typing import Any, NamedTuple, Sequence

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch, Data

from metanet.errors import ArchError, GraphError
from metanet.graph.data import (
    EDGE_KINDS,
    EDGE_RESIDUAL,
    NODE_BIAS,
    NODE_DIM,
    NODE_FEATURES,
    NODE_KINDS,
    NeuralGraph,
)
from metanet.graph.mapping import _BY_TEXT as _LAYOUT_CACHE
from metanet.graph.mapping import Layout, layout
from metanet.graph.plan import plan
from metanet.nets import Arch

__all__ = ["from_graph", "from_graphs", "to_state_dict", "split", "Population"]


class Population(NamedTuple):
    """A population of one architecture: ``module`` (holding the first network's parameters) and ``params``
    (``{name: (P, *shape)}``), e.g. ``verify_stacked(pop.module, pop.params, task)``."""

    module: nn.Module
    params: dict[str, Tensor]


def _get(graph: Data, key: str) -> Any:
    return graph._store._mapping.get(key)


def _graph_layout(graph: Data, copies: int = 1) -> Layout:
    arch = _get(graph, "arch")
    if arch is None:
        raise GraphError("the graph has no 'arch' attribute (the architecture spec); graphs made by to_graph carry one")
    if isinstance(arch, (list, tuple)):
        raise GraphError(
            f"from_graph() got a batch of {len(arch)} graphs; use from_graphs(batch) for a stacked population or "
            "split(batch) for a list of graphs"
        )
    _check_counts(graph, arch, copies)
    return layout(arch)


def _expected_counts(arch: Any) -> tuple[int, int, int, str] | None:
    """Neurons, connections and residual connections ``arch`` implies and its short name, from its plan alone (no
    tensors); None when already cached or unknown (then :func:`layout` gives the precise error)."""
    if isinstance(arch, str):
        if arch in _LAYOUT_CACHE:
            return None
        text = arch.strip()
        try:
            spec = json.loads(text) if text.startswith(("{", "[")) else Arch.parse(text).to_dict()
        except (ValueError, RecursionError, ArchError):
            return None
    elif isinstance(arch, dict):
        spec = arch
    elif isinstance(arch, Arch):
        spec = arch.to_dict()
    else:
        return None
    try:
        p = plan(spec)
    except (GraphError, ArchError, TypeError, ValueError):
        return None
    residual = sum(wl.n_out for wl in p.layers if wl.residual)
    name = str(Arch.from_dict(p.spec)) if p.spec["family"] in ("mlp", "cnn") else "sequential:" + "-".join(map(str, p.sizes))
    return sum(p.sizes), sum(wl.n_in * wl.n_out for wl in p.layers) + residual, residual, name


def _coalesce_hint(residual: int, missing: int, expected: int = -1) -> str:
    """Why a skip graph lacks exactly its residual edges: a residual edge j -> j joins the same two neurons as the
    weight edge of ``W[j, j]`` in its layer, and ``coalesce()`` merges such duplicates. Other missing edges: that
    zero weights are edges too."""
    if missing > 0 and (not residual or missing != residual):
        # a graph sparsified by dropping its zero-weight edges (a pruned network) named no reason
        return "; every weight is an edge, a zero one (a pruned connection) too: keep edges of value 0 in the graph"
    if missing < 0 and -missing in (expected, expected - 2 * residual):
        # twice the edges: a transform made the graph undirected (it coalesces first: a residual edge and the weight
        # edge it duplicates become one pair, so a skip network's 2 * (E - residual) edges are E - 2 * residual more)
        return ("; that many more edges are each edge reversed, as torch_geometric.transforms.ToUndirected adds: a "
                "network's graph is directed (inputs to outputs), decode the graph from before the transform")
    if not residual or missing != residual:
        return ""
    return (f". The {missing} missing edges are exactly its residual edges: a residual edge j -> j joins the same two "
            "neurons as the weight edge of W[j, j] in its layer, so Data.coalesce() (or a transform calling it) merged "
            "each such pair into one edge and mixed their values; encode the network again with to_graph and do not "
            "coalesce graphs with skips (they have these duplicate (source, target) pairs by design)")


def _check_counts(graph: Data, arch: Any, copies: int = 1) -> None:
    """Compare the graph's node and edge counts with its architecture's before the layout is built, so that a corrupt
    ``arch`` naming a huge network is a GraphError rather than an out-of-memory crash."""
    counts = _expected_counts(arch)
    if counts is None:
        return
    n, e, residual, name = counts[0] * copies, counts[1] * copies, counts[2] * copies, counts[3]
    x, ei = _get(graph, "x"), _get(graph, "edge_index")
    for key, t in (("x", x), ("edge_index", ei)):
        if not isinstance(t, Tensor):
            raise GraphError(f"graph.{key} must be a tensor, got {type(t).__name__}; a neural graph needs x, "
                             "edge_index, edge_attr and arch")
    what = f"{copies} graphs of {name}" if copies > 1 else f"its architecture ({name})"
    if x.dim() != 2 or x.shape[0] != n:
        raise GraphError(f"the graph's x has shape {tuple(x.shape)} but {what} {'have' if copies > 1 else 'has'} {n} "
                         f"neurons: expected ({n}, {NODE_DIM})")
    if ei.dim() != 2 or ei.shape != (2, e):
        hint = _coalesce_hint(residual, e - ei.shape[1], e) if ei.dim() == 2 and ei.shape[0] == 2 else ""
        raise GraphError(f"the graph's edge_index has shape {tuple(ei.shape)} but {what} {'have' if copies > 1 else 'has'}"
                         f" {e} connections ({e - residual} weight, {residual} residual): expected (2, {e}){hint}")


def _first_mismatch(a: Tensor, b: Tensor) -> int:
    return int((a != b).reshape(a.shape[0], -1).any(-1).nonzero()[0, 0]) if a.dim() else 0


def _check_tensor(graph: Data, key: str, shape: tuple[int, ...], float_: bool) -> Tensor:
    t = _get(graph, key)
    if t is None:
        raise GraphError(f"the graph has no '{key}' attribute; a neural graph needs x, edge_index, edge_attr and arch")
    if not isinstance(t, Tensor):
        raise GraphError(f"graph.{key} must be a tensor, got {type(t).__name__}")
    if float_ and not t.is_floating_point():
        raise GraphError(f"graph.{key} must be a floating-point tensor, got {t.dtype}")
    if not float_ and (t.is_floating_point() or t.is_complex()):
        raise GraphError(f"graph.{key} must be an integer tensor, got {t.dtype}")
    if t.dim() != len(shape) or any(s is not None and a != s for a, s in zip(t.shape, shape)):
        raise GraphError(f"graph.{key} has shape {tuple(t.shape)}; expected {tuple('*' if s is None else s for s in shape)}")
    return t


_STRUCTURE_KEYS = ("edge_index", "edge_kind", "node_kind", "node_layer", "node_act", "node_pos")


def _structure(graph: Data, lay: Layout, where: str) -> Tensor | None:
    """Check the graph's structure; returns the permutation bringing its edges into canonical order (or None)."""
    n, e = lay.num_nodes, lay.num_edges
    store = graph._store._mapping
    x, ea = store.get("x"), store.get("edge_attr")
    st = lay.structure(x.device if isinstance(x, Tensor) else None)
    if (
        isinstance(x, Tensor) and isinstance(ea, Tensor)
        and all(store.get(k) is st[k] or (k != "edge_index" and store.get(k) is None) for k in _STRUCTURE_KEYS)
        and x.shape == (n, NODE_DIM) and ea.dim() == 2 and ea.shape[0] == e and ea.shape[1] >= lay.edge_dim
        and x.dtype == ea.dtype and x.is_floating_point()
    ):
        return None  # the layout's own structure tensors (a graph made by to_graph): nothing to compare
    if isinstance(x, Tensor) and x.dim() >= 1 and x.shape[0] != n:
        raise GraphError(
            f"{where}the graph has {x.shape[0]} nodes but its architecture ({lay.describe_arch()}) has {n} neurons "
            f"(per layer: {list(lay.sizes)})"
        )
    x = _check_tensor(graph, "x", (n, NODE_DIM), True)
    ei = _check_tensor(graph, "edge_index", (2, None), False)
    if ei.shape[1] != e:
        residual = sum(b - a for a, b in lay.residual_rows)
        raise GraphError(
            f"{where}the graph has {ei.shape[1]} edges but its architecture ({lay.describe_arch()}) has {e} "
            f"(per weight layer: {[b - a for a, b in zip(lay.edge_start[:-1], lay.edge_start[1:])]})"
            f"{_coalesce_hint(residual, e - ei.shape[1], e)}"
        )
    ea = _check_tensor(graph, "edge_attr", (e, None), True)
    if ea.shape[1] < lay.edge_dim:
        widest = max(lay.layers, key=lambda layer: layer.kk)
        raise GraphError(
            f"{where}edge_attr has {ea.shape[1]} columns but {widest.describe()} needs {widest.kk} values per edge"
        )
    if x.dtype != ea.dtype:
        raise GraphError(f"{where}x is {x.dtype} but edge_attr is {ea.dtype}; both must have the network's dtype")
    if _meta_structure(graph, x, ea, where):
        for key in _STRUCTURE_KEYS[1:]:
            if _get(graph, key) is not None:
                _check_tensor(graph, key, (e if key == "edge_kind" else n,), False)
        return None  # e.g. graph.to("meta"): shapes only, nothing to compare (as for a meta network's own graph)
    ek = _get(graph, "edge_kind")
    if ek is not None and ek is not st["edge_kind"]:
        ek = _check_tensor(graph, "edge_kind", (e,), False)
        bad = (ek < 0) | (ek >= len(EDGE_KINDS))
        if bool(bad.any()):
            i = int(bad.nonzero()[0, 0])
            raise GraphError(
                f"{where}edge {i} has unknown kind {int(ek[i])}; valid: "
                + ", ".join(f"{c} ({k})" for c, k in enumerate(EDGE_KINDS))
            )
    perm = None
    if ei is not st["edge_index"] and not torch.equal(ei, st["edge_index"]):
        perm = _match_edges(ei, ek, lay, where)
    if ek is not None and ek is not st["edge_kind"]:
        ek_c = ek if perm is None else ek[perm]
        if not torch.equal(ek_c, st["edge_kind"]):  # only possible when the order was canonical
            i = _first_mismatch(ek_c, st["edge_kind"])
            raise GraphError(
                f"{where}edge {i} is marked {EDGE_KINDS[int(ek_c[i])]} but the architecture has a "
                f"{EDGE_KINDS[int(st['edge_kind'][i])]} edge there ({lay.describe_node(int(ei[0, i]))} -> "
                f"{lay.describe_node(int(ei[1, i]))})"
            )
    for key, ref in (("node_kind", "node_kind"), ("node_layer", "node_layer"), ("node_act", "node_act"),
                     ("node_pos", "node_pos")):
        t = _get(graph, key)
        if t is None or t is st[ref]:
            continue
        t = _check_tensor(graph, key, (n,), False)
        if key == "node_kind":
            bad = (t < 0) | (t >= len(NODE_KINDS))
            if bool(bad.any()):
                i = int(bad.nonzero()[0, 0])
                raise GraphError(
                    f"{where}node {i} has unknown kind {int(t[i])}; valid: "
                    + ", ".join(f"{c} ({k})" for c, k in enumerate(NODE_KINDS))
                )
        if not torch.equal(t, st[ref]):
            i = _first_mismatch(t, st[ref])
            raise GraphError(
                f"{where}{key}[{i}] is {int(t[i])} but the architecture says {int(st[ref][i])} for "
                f"{lay.describe_node(i)}"
            )
    return perm


def _meta_structure(graph: Data, x: Tensor, ea: Tensor, where: str) -> bool:
    """True if the graph's structure tensors are on the meta device (no values to check: only its shapes can be);
    an error if they are but its values are not, as then nothing says which value belongs to which weight."""
    meta = [k for k in _STRUCTURE_KEYS if isinstance(_get(graph, k), Tensor) and _get(graph, k).is_meta]
    if not meta:
        return False
    if not (x.is_meta and ea.is_meta):
        raise GraphError(
            f"{where}{', '.join(meta)} {'is' if len(meta) == 1 else 'are'} on the 'meta' device (shapes without values) "
            f"but x is on {x.device} and edge_attr on {ea.device}; move the whole graph with graph.to(device)"
        )
    return True


def _match_edges(ei: Tensor, ek: Tensor | None, lay: Layout, where: str) -> Tensor:
    """Map edges given in another order onto the canonical ones; error on anything that is not a canonical edge."""
    n = lay.num_nodes
    out_of_range = (ei < 0) | (ei >= n)
    if bool(out_of_range.any()):
        i = int(out_of_range.any(0).nonzero()[0, 0])
        raise GraphError(f"{where}edge {i} ({int(ei[0, i])} -> {int(ei[1, i])}) refers to a node outside 0..{n - 1}")
    if ek is None:
        raise GraphError(
            f"{where}edges are not in the canonical order and the graph has no edge_kind to tell weight from residual "
            "edges; keep the order to_graph produced"
        )
    keys = (ek.cpu() * n + ei[0].cpu()) * n + ei[1].cpu()
    sorted_keys, order = lay.edge_keys()
    pos = torch.searchsorted(sorted_keys, keys).clamp_(max=len(sorted_keys) - 1)
    found = sorted_keys[pos] == keys
    if not bool(found.all()):
        i = int((~found).nonzero()[0, 0])
        s, d = int(ei[0, i]), int(ei[1, i])
        ls, ld = lay.layer_of_node(s), lay.layer_of_node(d)
        raise GraphError(
            f"{where}edge {i} ({EDGE_KINDS[int(ek[i])]}, {lay.describe_node(s)} -> {lay.describe_node(d)}) is not a "
            f"connection of the architecture (layer {ls} -> layer {ld}); weight edges join every neuron of layer l-1 "
            "to every neuron of layer l, residual edges join neuron j to neuron j across a skip layer"
        )
    canon = order[pos]
    counts = torch.bincount(canon, minlength=lay.num_edges)
    if bool((counts != 1).any()):
        j = int((counts != 1).nonzero()[0, 0])
        raise GraphError(
            f"{where}edge {lay.describe_node(int(lay.edge_index[0, j]))} -> {lay.describe_node(int(lay.edge_index[1, j]))}"
            f" appears {int(counts[j])} times; every connection must appear exactly once"
        )
    perm = torch.empty_like(canon)
    perm[canon] = torch.arange(len(canon))
    return perm.to(ei.device)


def _values(x: Tensor, ea: Tensor | None, lay: Layout, where: str) -> None:
    """Check the values of one graph or a population: x :math:`(*, N, D)`, ea :math:`(*, E, F)` (canonical order;
    None: x only, for batch_params given edge values of its own).

    One cheap pass (a handful of reductions) for the common case of a valid graph; :func:`_explain` finds and names
    the defect otherwise.
    """
    if x.is_meta or (ea is not None and ea.is_meta):
        return  # a graph of a meta-device network has shapes only: no values to check
    # checks only: no autograd graph, and no warning about converting a tensor that requires grad to a float
    x, ea = x.detach(), None if ea is None else ea.detach()
    fixed, expected = lay.fixed_node_values(x.dtype, x.device)
    # x * fixed zeroes the free entries (biases of neurons that have one) unless they are NaN / inf, so this one
    # comparison checks the layout columns, the zero bias of bias-free neurons and that every bias is finite
    ok = torch.equal(x * fixed, expected if x.dim() == 2 else expected.expand_as(x)) and (
        ea is None
        or (math.isfinite(float(ea.sum())) and all(bool((ea[..., a:b, 0] == 1).all()) for a, b in lay.residual_rows))
    )
    if not ok:
        _explain(x, ea, lay, where)


def _explain(x: Tensor, ea: Tensor | None, lay: Layout, where: str) -> None:
    static = lay.static_columns(x.dtype, x.device)
    rest = x[..., 1:]
    if not torch.equal(rest, static.expand_as(rest)):
        flat = rest.reshape(-1, lay.num_nodes, NODE_DIM - 1)
        g, i, c = (int(v) for v in (flat != static).nonzero()[0])
        raise GraphError(
            f"{where}{_graph(g, x)}x[{i}, {c + 1}] ({NODE_FEATURES[c + 1]}) is {float(flat[g, i, c])} but the "
            f"architecture gives {float(static[i, c])} for {lay.describe_node(i)}"
        )
    bias = x[..., NODE_BIAS].reshape(-1, lay.num_nodes)
    bad = ~torch.isfinite(bias)
    if bool(bad.any()):
        g, i = (int(v) for v in bad.nonzero()[0])
        raise GraphError(f"{where}{_graph(g, x)}the bias of {lay.describe_node(i)} is {float(bias[g, i])}; "
                         "biases must be finite")
    stray = (bias != 0) & ~lay.node_has_bias.to(bias.device)
    if bool(stray.any()):
        g, i = (int(v) for v in stray.nonzero()[0])
        raise GraphError(
            f"{where}{_graph(g, x)}{lay.describe_node(i)} has bias {float(bias[g, i])} but its layer has no bias "
            "parameter (has_bias = 0); it must be 0"
        )
    if ea is None:
        return
    mask = lay.edge_mask(ea.shape[-1]).to(ea.device)
    flat = ea.reshape(-1, *mask.shape)
    bad = ~torch.isfinite(flat) & mask
    if bool(bad.any()):
        g, e, c = (int(v) for v in bad.nonzero()[0])
        l = int(lay.edge_layer[e])
        raise GraphError(
            f"{where}{_graph(g, x)}edge {e} (weight layer {l}, {lay.layers[l - 1].describe()}) holds "
            f"{float(flat[g, e, c])} in column {c}; weights must be finite"
        )
    for (a, b), layer in zip(lay.residual_rows, [wl for wl in lay.layers if wl.residual]):
        w = flat[:, a:b, 0]
        if not bool((w == 1).all()):
            g, j = (int(v) for v in (w != 1).nonzero()[0])
            raise GraphError(
                f"{where}{_graph(g, x)}residual edge {a + j} around {layer.describe()} has weight {float(w[g, j])}; "
                f"residual edges ({EDGE_KINDS[EDGE_RESIDUAL]} kind) must have weight 1 (a scaled skip is not a "
                "supported network)"
            )
    # nothing wrong after all (a sum of finite values overflowed): the graph is valid


def _graph(g: int, x: Tensor) -> str:
    return f"graph {g}: " if x.dim() == 3 else ""


def _single(graph: Any, where: str = "") -> tuple[Layout, Tensor, Tensor]:
    if isinstance(graph, (list, tuple)) and all(isinstance(g, Data) for g in graph):
        # batch[1:3] / batch.index_select(...) give a list of graphs
        raise GraphError(f"expected one NeuralGraph, got a {type(graph).__name__} of {len(graph)} graphs (slicing a Batch "
                         "gives a list); pass its graphs one by one, or all of them to from_graphs(graphs)")
    if not isinstance(graph, Data):
        raise GraphError(f"expected a NeuralGraph (torch_geometric Data), got {type(graph).__name__}")
    lay = _graph_layout(graph)
    perm = _structure(graph, lay, where)
    x, ea = graph.x, graph.edge_attr
    if perm is not None:
        ea = ea[perm]
    _values(x, ea, lay, where)
    return lay, x, ea


def _one_graph(graph: Any) -> Any:
    if isinstance(graph, Batch):
        if graph.num_graphs != 1:
            raise GraphError(
                f"from_graph() got a batch of {graph.num_graphs} graphs; use from_graphs(batch) for a stacked "
                "population or split(batch) for a list of graphs"
            )
        graph = graph.get_example(0)
    return graph


def to_state_dict(graph: NeuralGraph) -> dict[str, Tensor]:
    r"""The parameters a graph holds, checked, as a state dict of fresh tensors (``model.load_state_dict`` ready).

    The same checks and values as :func:`from_graph`, without building a module.
    """
    return _state(graph)[1]


def _state(graph: Any) -> tuple[Layout, dict[str, Tensor]]:
    lay, x, ea = _single(_one_graph(graph))
    return lay, lay._gather(ea.detach(), x.detach(), ())


def from_graph(graph: NeuralGraph) -> nn.Module:
    r"""Decode a :class:`~metanet.graph.NeuralGraph` into the network it describes (inverse of :func:`to_graph`).

    Args:
        graph: a single graph (a one-graph ``Batch`` is accepted too). Edges may come in any order if the graph
            carries ``edge_kind``; nodes must be in the canonical order (see :class:`NeuralGraph`). Padding columns
            of ``edge_attr`` are ignored.

    Returns:
        A fresh module of the graph's architecture (``MLP``, ``CNN`` or ``nn.Sequential``) in eval mode, whose
        parameters are copies of the graph's values in their dtype:
        :math:`W^{(l)} = \mathrm{reshape}(\texttt{edge\_attr}[e_l : e_l + n_l n_{l-1},\ :k_h k_w])`,
        :math:`b^{(l)} = \texttt{x}[v_l : v_l + n_l,\ \texttt{NODE\_BIAS}]` (:math:`e_l`, :math:`v_l`: first
        edge / node of layer :math:`l`).

    Raises:
        GraphError: the graph is malformed (see the module docstring); the message names the node, edge or layer.
    """
    lay, params = _state(graph)
    return lay._build(params)


def from_graphs(graphs: Batch | Sequence[NeuralGraph]) -> Population:
    r"""Decode P graphs of one architecture into a stacked population, without a Python loop over weights.

    Args:
        graphs: a ``Batch`` (e.g. from :func:`to_batch` or a ``DataLoader``) or a list of graphs, all of one
            architecture and edge width.

    Returns:
        :class:`Population` ``(module, params)`` with ``params[name]`` of shape :math:`(P, *\text{shape})`, ready
        for ``metanet.verify.verify_stacked(module, params, task)`` or ``torch.func.functional_call``.

    Raises:
        GraphError: the graphs mix architectures or edge widths, or one of them is malformed.
    """
    if isinstance(graphs, Batch):
        if graphs.num_graphs == 0:
            raise GraphError("from_graphs() got a batch of no graphs")
        lay, x, ea = _batch_values(graphs)
    else:
        graphs = list(graphs)
        if not graphs:
            raise GraphError("from_graphs() got no graphs")
        checked = [_single(g, f"graph {i}: ") for i, g in enumerate(graphs)]
        keys = {c[0].key for c in checked}
        if len(keys) != 1:
            raise GraphError(
                f"from_graphs() needs graphs of one architecture, got {len(keys)}: "
                + "; ".join(sorted(layout(k).describe_arch() for k in keys))
                + ". Decode each group separately (or use from_graph on each graph)"
            )
        widths = {c[2].shape[1] for c in checked}
        if len(widths) != 1:
            raise GraphError(f"from_graphs() needs one edge width, got {sorted(widths)}; re-encode with one edge_dim")
        lay = checked[0][0]
        x = torch.stack([c[1] for c in checked])
        ea = torch.stack([c[2] for c in checked])
    params = lay._gather(ea.detach(), x.detach(), (ea.shape[0],))
    module = lay._build({k: v[0].clone() for k, v in params.items()})
    return Population(module, params)


def _batch_values(batch: Batch) -> tuple[Layout, Tensor, Tensor]:
    arch = _get(batch, "arch")
    if not isinstance(arch, (list, tuple)):
        arch = [arch] * batch.num_graphs
    if not all(a is None or isinstance(a, str) for a in arch):
        bad = next(a for a in arch if not (a is None or isinstance(a, str)))
        raise GraphError(f"the batch's arch must be one architecture string per graph (as to_graph stores it), got "
                         f"a {type(bad).__name__}")
    kinds = set(arch)
    if len(kinds) != 1:
        raise GraphError(
            f"from_graphs() needs graphs of one architecture, got {len(kinds)}: "
            + "; ".join(sorted(layout(k).describe_arch() for k in kinds if k is not None))
            + ". Split the batch (split(batch)) and decode each group separately"
        )
    if arch[0] is not None:
        _check_counts(batch, arch[0], batch.num_graphs)
    lay = layout(arch[0]) if arch[0] is not None else _graph_layout(batch, batch.num_graphs)
    p, n, e = batch.num_graphs, lay.num_nodes, lay.num_edges
    got = _get(batch, "x")
    if not isinstance(got, Tensor) or got.dim() != 2 or got.shape[0] != p * n:
        raise GraphError(
            f"the batch has {p} graphs of {lay.describe_arch()} ({n} neurons each, {p * n} in all) but "
            f"{'no x' if not isinstance(got, Tensor) else f'x of shape {tuple(got.shape)}'}"
        )
    x = _check_tensor(batch, "x", (p * n, NODE_DIM), True)
    ei = _check_tensor(batch, "edge_index", (2, None), False)
    if ei.shape[1] != p * e:
        residual = sum(b - a for a, b in lay.residual_rows)
        raise GraphError(f"the batch has {ei.shape[1]} edges; {p} graphs of {lay.describe_arch()} have {p * e} ({e} each)"
                         f"{_coalesce_hint(residual * p, p * e - ei.shape[1], p * e)}")
    ea = _check_tensor(batch, "edge_attr", (p * e, None), True)
    if ea.shape[1] < lay.edge_dim:
        raise GraphError(f"edge_attr has {ea.shape[1]} columns; {lay.describe_arch()} needs at least {lay.edge_dim}")
    ptr = _get(batch, "ptr")
    # a batch on the meta device (e.g. to_batch of meta parameters) has shapes only: check those
    meta = _meta_structure(batch, x, ea, "") or (isinstance(ptr, Tensor) and ptr.is_meta)
    if ptr is not None and not meta and not torch.equal(ptr.cpu(), torch.arange(p + 1) * n):
        raise GraphError(f"the batch's graphs do not all have {n} nodes (ptr {ptr.tolist()[:10]}...)")
    st = lay.structure(x.device)
    off = (torch.arange(p, device=x.device) * n).view(1, p, 1)
    if not meta and not torch.equal(ei.reshape(2, p, e) - off, st["edge_index"].unsqueeze(1).expand(2, p, e)):
        bad = ((ei.reshape(2, p, e) - off) != st["edge_index"].unsqueeze(1)).any(0)
        g = int(bad.any(1).nonzero()[0, 0])
        raise GraphError(
            f"graph {g} of the batch has edges that differ from its architecture's canonical edges (wrong order or "
            "connections); decode it with from_graph(split(batch)[g]) for a precise message"
        )
    for key in ("node_kind", "node_layer", "node_act", "node_pos", "edge_kind"):
        t = _get(batch, key)
        if t is None:
            continue
        m = n if key.startswith("node") else e
        t = _check_tensor(batch, key, (p * m,), False)
        if not meta and not torch.equal(t.view(p, m), st[key].unsqueeze(0).expand(p, m)):
            g = int((t.view(p, m) != st[key]).any(1).nonzero()[0, 0])
            raise GraphError(
                f"graph {g} of the batch: {key} differs from its architecture's; decode it with "
                "from_graph(split(batch)[g]) for a precise message"
            )
    x, ea = x.view(p, n, NODE_DIM), ea.view(p, e, -1)
    _values(x, ea, lay, "")
    return lay, x, ea


def split(batch: Batch) -> list[NeuralGraph]:
    """The graphs of a ``Batch`` (``batch.to_data_list()``), each decodable with :func:`from_graph`."""
    if not isinstance(batch, Batch):
        raise GraphError(f"split() needs a torch_geometric Batch, got {type(batch).__name__}")
    return batch.to_data_list()
