"""`plot`: a picture of a neural graph, as layers of neurons joined by their weights.

The figure is a plain :class:`matplotlib.figure.Figure` made without ``pyplot`` (so no GUI backend is involved and
nothing global changes): save it with ``fig.savefig("net.png")`` or log it with TensorBoard's
``SummaryWriter.add_figure(tag, fig)``.
"""

from __future__ import annotations

import math
from numbers import Integral
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch

from metanet.errors import GraphError
from metanet.graph.data import EDGE_RESIDUAL, NODE_BIAS
from metanet.graph.decode import _single
from metanet.graph.encode import as_network, to_graph
from metanet.nets import ACTIVATIONS

__all__ = ["plot"]

POSITIVE = "tab:blue"
NEGATIVE = "tab:red"
RESIDUAL = "0.25"


def _positions(sizes: tuple[int, ...]) -> Tensor:
    """y in [0, 1] for every node, layer by layer (layers centred on 0.5, spread in proportion to their size)."""
    biggest = max(sizes)
    ys = []
    for n in sizes:
        span = 0.96 * (n - 1) / max(biggest - 1, 1) if n > 1 else 0.0
        span = max(span, min(0.5, 0.06 * (n - 1)))  # small layers still spread out a little
        ys.append(torch.linspace(0.5 + span / 2, 0.5 - span / 2, n) if n > 1 else torch.tensor([0.5]))
    return torch.cat(ys)


def plot(graph: Any, *, max_edges: int = 4000, title: str | None = None, figsize: tuple[float, float] | None = None):
    """Draw a neural graph (or a module, encoded first) as columns of neurons, one column per layer.

    Edges are coloured by the sign of their weight (blue positive, red negative) and drawn with a width and
    opacity proportional to its magnitude, normalised per layer; for a convolution the edge stands for a whole
    kernel, drawn by the sign of its sum and its L2 norm. Edges whose weight (kernel) is exactly zero, such as
    pruned connections, are not drawn; the title says how many there are. Residual edges are grey dashed lines.
    Neurons are coloured by their bias (input neurons and bias-free layers grey).

    Args:
        graph: a :class:`~metanet.graph.NeuralGraph` (or a ``Batch`` holding one) or a network as
            :func:`~metanet.graph.to_graph` takes it (a supported ``nn.Module``, :func:`metanet.generate`'s result
            or a saved network's path).
        max_edges: draw at most this many weight edges (a positive integer; at least one per layer is drawn, if
            the layer has a non-zero weight), keeping the strongest of every layer (in proportion to the layer's
            share of edges); the title says when edges were left out.
        title: figure title (default: the architecture and node / edge counts).
        figsize: matplotlib figure size in inches, ``(width, height)``, both positive.

    Returns:
        A :class:`matplotlib.figure.Figure`.

    Raises:
        GraphError: the graph is malformed, on the ``meta`` device, or a batch of several graphs; or ``max_edges`` /
            ``figsize`` is invalid.
    """
    # checked first: matplotlib would fail late with a raw ValueError (or silently clamp max_edges)
    if isinstance(max_edges, bool) or not isinstance(max_edges, Integral) or max_edges < 1:
        raise GraphError(f"max_edges must be a positive integer, got {max_edges!r:.100}")
    if figsize is not None:
        try:
            ok = len(figsize) == 2 and all(not isinstance(v, (bool, str)) and math.isfinite(v) and v > 0 for v in figsize)
        except (TypeError, OverflowError):  # OverflowError: an int beyond float range (10**400) in math.isfinite
            ok = False
        if not ok:
            raise GraphError(f"figsize must be (width, height) in inches, two positive numbers; got {figsize!r:.100}")
    import numpy as np
    from matplotlib import colormaps
    from matplotlib.collections import LineCollection
    from matplotlib.colors import TwoSlopeNorm, to_rgba
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    pos_rgba, neg_rgba = np.array(to_rgba(POSITIVE)), np.array(to_rgba(NEGATIVE))

    given, graph = graph, as_network(graph)  # as to_graph takes it (a Generated, a path), not "expected a NeuralGraph"
    if graph is None and given is not None:  # a Generated holding no network: "expected a NeuralGraph, got NoneType"
        raise GraphError(f"plot() got a {type(given).__name__} whose .model is None: it holds no network to "
                         "draw; give a module, metanet.generate's result holding one, a saved network's path or a "
                         "NeuralGraph")
    if isinstance(graph, nn.Module):
        graph = to_graph(graph)
    if isinstance(graph, Batch):  # e.g. from a DataLoader with batch_size=1, as from_graph takes it
        if graph.num_graphs != 1:
            raise GraphError(f"plot() got a batch of {graph.num_graphs} graphs; plot them one by one: "
                             "metanet.graph.split(batch) gives the list of graphs")
        graph = graph.get_example(0)
    lay, x, ea = _single(graph)
    if x.is_meta or ea.is_meta:
        raise GraphError("cannot draw a graph on the 'meta' device: it has shapes but no weight values; encode a "
                         "network with real weights (e.g. model.to_empty(device='cpu') and load_state_dict first)")
    # float64, and a kernel's norm taken of the kernel scaled by its largest value: finite weights beyond ~1e19
    # (float32) would square to inf and draw every edge of their layer with a NaN width (invisible)
    x, ea = x.detach().double().cpu(), ea.detach().double().cpu()
    ys = _positions(lay.sizes)
    xs = lay.node_layer.float()
    ei, kinds = lay.edge_index, lay.edge_kind
    mask = lay.edge_mask(ea.shape[1])
    real = ea * mask
    vals = real.sum(1)
    peak = real.abs().amax(1)
    peak_or_1 = torch.where(peak > 0, peak, torch.ones_like(peak))
    mags = torch.where(lay.edge_width > 1, peak * (real / peak_or_1[:, None]).norm(dim=1), vals.abs())

    n_layers = len(lay.sizes)
    fig = Figure(figsize=tuple(figsize) if figsize is not None else (max(6.0, 2.2 * n_layers), 6.0))
    ax = fig.add_subplot(1, 1, 1)
    # an exact-zero weight (a pruned connection) is no connection: drawn, it was a faint "w > 0" line, and a
    # 90 %-pruned network looked dense (NaN magnitudes are drawn, as before)
    weight = kinds != EDGE_RESIDUAL
    drawn = weight & (mags != 0)
    total_w, zeros = int(drawn.sum()), int((weight & (mags == 0)).sum())
    shown = 0
    for wl in lay.layers:
        sl = lay.edges(wl.index)
        w_rows = torch.arange(sl.start, sl.stop)
        w_rows = w_rows[drawn[w_rows]]
        if total_w > max_edges:
            k = max(1, math.floor(max_edges * len(w_rows) / total_w))
            w_rows = w_rows[torch.topk(mags[w_rows], min(k, len(w_rows))).indices]
        shown += len(w_rows)
        scale = float(mags[w_rows].max()) if len(w_rows) else 1.0
        scale = scale if scale > 0 else 1.0
        rel = (mags[w_rows] / scale).clamp(0, 1)
        segs = torch.stack([torch.stack([xs[ei[0, w_rows]], ys[ei[0, w_rows]]], 1),
                            torch.stack([xs[ei[1, w_rows]], ys[ei[1, w_rows]]], 1)], 1)
        order = torch.argsort(rel)  # strongest edges on top
        rgba = np.where((vals[w_rows][order] >= 0).numpy()[:, None], pos_rgba, neg_rgba)
        rgba[:, 3] = (0.04 + 0.76 * rel[order] ** 1.5).numpy()
        ax.add_collection(LineCollection(segs[order].numpy(), colors=rgba, linewidths=(0.2 + 2.3 * rel[order]).numpy(),
                                         zorder=1))
        if wl.residual:
            r_rows = torch.arange(sl.start, sl.stop)[kinds[sl] == EDGE_RESIDUAL]
            rsegs = torch.stack([torch.stack([xs[ei[0, r_rows]], ys[ei[0, r_rows]]], 1),
                                 torch.stack([xs[ei[1, r_rows]], ys[ei[1, r_rows]]], 1)], 1)
            ax.add_collection(LineCollection(rsegs.numpy(), colors=RESIDUAL, linestyles="dashed", linewidths=1.4,
                                             zorder=1.5))

    bias = x[:, NODE_BIAS]
    has = lay.node_has_bias
    cmap = colormaps["coolwarm_r"]
    bmax = float(bias[has].abs().max()) if bool(has.any()) else 0.0
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-(bmax or 1.0), vmax=bmax or 1.0)
    size = max(4.0, min(60.0, 2400.0 / max(lay.sizes)))
    ax.scatter(xs[~has].numpy(), ys[~has].numpy(), s=size, c="0.6", edgecolors="0.3", linewidths=0.3, zorder=2)
    if bool(has.any()):
        sc = ax.scatter(xs[has].numpy(), ys[has].numpy(), s=size, c=bias[has].numpy(), cmap=cmap, norm=norm,
                        edgecolors="0.3", linewidths=0.3, zorder=2)
        fig.colorbar(sc, ax=ax, fraction=0.03, pad=0.02, label="bias")

    acts = list(ACTIVATIONS)
    codes = lay.plan.act_codes()
    labels = []
    for l, n in enumerate(lay.sizes):
        kind = "input" if l == 0 else ("output" if l == n_layers - 1 else "hidden")
        typ = "" if l == 0 else f"{lay.layers[l - 1].type}\n"
        act = acts[codes[l]]
        # a grey-image CNN's input layer is one neuron (its channel): "1 neurons" was every such picture's label
        labels.append(f"{l}: {kind}\n{typ}{n} neuron{'s' * (n != 1)}" + ("" if act == "identity" else f"\n{act}"))
    ax.set_xticks(range(n_layers), labels, fontsize=8)
    ax.set_yticks([])
    ax.set_xlim(-0.3, n_layers - 0.7)
    ax.set_ylim(-0.03, 1.1)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    if title is None:
        title = f"{lay.describe_arch()}: {lay.num_nodes} neurons, {lay.num_edges} edges"
        notes = [f"showing the {shown} strongest of {total_w} {'non-zero ' if zeros else ''}weight edges"] \
            if shown < total_w else []
        if zeros:
            notes.append(f"{zeros} zero weight edge{'s' if zeros != 1 else ''} not drawn")
        if notes:
            title += f"\n({'; '.join(notes)})"
    ax.set_title(title, fontsize=10)
    handles = [Line2D([], [], color=POSITIVE, label="w > 0"), Line2D([], [], color=NEGATIVE, label="w < 0")]
    if bool((kinds == EDGE_RESIDUAL).any()):
        handles.append(Line2D([], [], color=RESIDUAL, linestyle="dashed", label="residual"))
    ax.legend(handles=handles, loc="upper right", fontsize=8, frameon=False, ncol=len(handles))
    fig.tight_layout()
    return fig
