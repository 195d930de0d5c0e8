r"""`batch_params`: per-edge / per-node values over a PyG ``Batch`` of mixed architectures -> stacked parameters
per architecture, differentiably (what a writer GNN needs to run the networks it writes)."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor
from torch_geometric.data import Batch

from metanet.errors import GraphError
from metanet.graph.data import NODE_BIAS, NODE_DIM
from metanet.graph.decode import _check_tensor, _coalesce_hint, _values
from metanet.graph.mapping import Layout, layout

__all__ = ["batch_params", "ParamGroup"]


class ParamGroup(NamedTuple):
    """The graphs of one architecture in a batch: ``layout``, ``graphs`` (their indices in the batch, ascending)
    and ``params`` (``{name: (len(graphs), *shape)}``)."""

    layout: Layout
    graphs: Tensor
    params: dict[str, Tensor]


def batch_params(batch: Batch, edge_values: Tensor | None = None, node_bias: Tensor | None = None) -> list[ParamGroup]:
    r"""Parameters of every network of a batch, grouped by architecture, as differentiable functions of per-edge and
    per-node values (e.g. a writer's outputs).

    Args:
        batch: a ``Batch`` of neural graphs in canonical order (as :func:`~metanet.graph.to_graph` makes them;
            ``DataLoader`` batches qualify).
        edge_values: :math:`(\sum_g E_g, F)` values aligned with ``batch.edge_index`` (default ``batch.edge_attr``);
            padding columns and residual edges are ignored.
        node_bias: :math:`(\sum_g N_g,)` biases aligned with the batch's nodes (default ``batch.x[:, NODE_BIAS]``);
            entries of neurons without a bias are ignored.

    Returns:
        One :class:`ParamGroup` per architecture, in order of first appearance. Gradients flow from ``params`` back
        to ``edge_values`` and ``node_bias`` (a gather; a view when the batch holds one architecture only).

    Raises:
        GraphError: the batch has no ``arch`` list, or the value tensors do not match its nodes / edges; or values
            read from the batch (its ``edge_attr`` without ``edge_values``, its ``x`` without ``node_bias``) are
            ones :func:`~metanet.graph.from_graph` refuses (e.g. an ``x`` changed by ``T.NormalizeFeatures()``, or
            NaN weights): the same message, naming the graph. What is not read is not checked.
    """
    if not isinstance(batch, Batch):
        raise GraphError(f"batch_params() needs a torch_geometric Batch, got {type(batch).__name__}")
    archs = batch._store._mapping.get("arch")
    if archs is None:
        raise GraphError("the batch has no 'arch' attribute; batch graphs made by metanet.graph.to_graph")
    if not isinstance(archs, (list, tuple)):
        archs = [archs]
    own_edges, own_x = edge_values is None, node_bias is None
    # values read from the batch must be its graphs' encoding, as from_graph checks it (a transform such as
    # T.NormalizeFeatures() rescales x, biases included); a writer's own values are its business, and so is an x
    # that is not read (biases given): a GNN's normalised input features were refused
    check = own_edges or own_x
    edge_values = batch.edge_attr if edge_values is None else edge_values
    node_bias = batch.x[:, NODE_BIAS] if node_bias is None else node_bias
    lays = [layout(a) for a in archs]
    n_count = torch.tensor([lay.num_nodes for lay in lays])
    e_count = torch.tensor([lay.num_edges for lay in lays])
    total_n, total_e = int(n_count.sum()), int(e_count.sum())
    if edge_values.dim() != 2 or edge_values.shape[0] != total_e:
        ei = batch._store._mapping.get("edge_index")
        hint = ""
        if isinstance(ei, Tensor) and ei.dim() == 2 and ei.shape[1] == edge_values.shape[0]:  # the batch's own count
            hint = _coalesce_hint(sum(b - a for lay in lays for a, b in lay.residual_rows), total_e - ei.shape[1],
                                   total_e)
        raise GraphError(
            f"edge values of shape {tuple(edge_values.shape)} do not match the batch: its {len(lays)} graphs have "
            f"{total_e} edges in all, so (E={total_e}, F) is expected{hint}"
        )
    if node_bias.dim() != 1 or node_bias.shape[0] != total_n:
        raise GraphError(
            f"node biases of shape {tuple(node_bias.shape)} do not match the batch: expected ({total_n},), one per node"
        )
    ptr = batch._store._mapping.get("ptr")
    if ptr is not None and not ptr.is_meta and not torch.equal(ptr.cpu().diff(), n_count):
        raise GraphError("the batch's node counts differ from its graphs' architectures; was it built from to_graph graphs?")
    n_off = torch.cumsum(n_count, 0) - n_count
    e_off = torch.cumsum(e_count, 0) - e_count
    _check_order(batch, lays, n_off, total_e)
    x = _check_tensor(batch, "x", (total_n, NODE_DIM), True) if own_x else None
    groups: dict[str, list[int]] = {}
    for i, lay in enumerate(lays):
        groups.setdefault(lay.key, []).append(i)
    out = []
    dev = edge_values.device
    for key, members in groups.items():
        lay = lays[members[0]]
        idx = torch.tensor(members)
        k = len(members)
        if k == len(lays):  # one architecture: plain views
            ev = edge_values.view(k, lay.num_edges, -1)
            nb = node_bias.view(k, lay.num_nodes)
            xg = None if x is None else x.view(k, lay.num_nodes, NODE_DIM)
        else:
            e_rows = (e_off[idx][:, None] + torch.arange(lay.num_edges)).reshape(-1).to(dev)
            n_rows = (n_off[idx][:, None] + torch.arange(lay.num_nodes)).reshape(-1)
            ev = edge_values.index_select(0, e_rows).view(k, lay.num_edges, -1)
            nb = node_bias.index_select(0, n_rows.to(node_bias.device)).view(k, lay.num_nodes)
            xg = None if x is None else x.index_select(0, n_rows.to(x.device)).view(k, lay.num_nodes, NODE_DIM)
        if check:
            if xg is None:  # edges alone are read: the layout's own node values stand in for the x not read
                xg = lay.fixed_node_values(ev.dtype, ev.device)[1].expand(k, lay.num_nodes, NODE_DIM)
            _check_graphs(lay, members, xg, ev if own_edges else None)
        out.append(ParamGroup(lay, idx, lay.to_params(ev, nb)))
    return out


def _check_graphs(lay: Layout, members: list[int], x: Tensor, ea: Tensor | None) -> None:
    """from_graph's value check on the graphs ``members`` of one architecture (x :math:`(k, N, D)`, ea
    :math:`(k, E, F)` or None), all at once; on a failure again one by one, for a message naming the graph."""
    try:
        _values(x, ea, lay, "")
    except GraphError:
        for j, g in enumerate(members):
            _values(x[j], None if ea is None else ea[j], lay, f"graph {g} of the batch: ")
        raise


def _check_order(batch: Batch, lays: list[Layout], n_off: Tensor, total_e: int) -> None:
    """GraphError unless the batch's edges are in canonical order: values are read by position, so edges reordered
    by ``Data.sort()``, ``coalesce()`` or a transform would silently become other weights (from_graph re-matches
    them by ``edge_kind``; here that would cost a search per graph)."""
    ei = batch._store._mapping.get("edge_index")
    if not isinstance(ei, Tensor) or ei.is_meta:
        return  # no connectivity to compare (a meta batch has shapes only)
    if ei.dim() != 2 or ei.shape != (2, total_e):
        raise GraphError(f"the batch's edge_index has shape {tuple(ei.shape)}; its {len(lays)} graphs have {total_e} "
                         f"edges in all, so (2, {total_e}) is expected")
    if not lays:
        return
    got = ei.to(torch.long)  # an int32 edge_index holds the same connections
    want = torch.cat([lay.structure(ei.device)["edge_index"] + int(off) for lay, off in zip(lays, n_off)], dim=1)
    if not torch.equal(got, want):
        e = int((got != want).any(0).nonzero()[0, 0])
        g = int(torch.searchsorted(torch.cumsum(torch.tensor([lay.num_edges for lay in lays]), 0), e, right=True))
        raise GraphError(
            f"graph {g} of the batch has its edges in another order than to_graph makes them (or other connections); "
            "batch_params reads values by position, so it needs the canonical order: keep the graphs' edge order "
            "(no Data.sort() / coalesce()), or decode such a graph with from_graph, which matches edges by edge_kind"
        )
