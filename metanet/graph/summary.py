"""`describe`: what a neural graph holds, layer by layer (node and edge counts, weight and bias statistics)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch

from metanet.errors import GraphError
from metanet.graph.data import NODE_BIAS, NODE_KINDS
from metanet.graph.decode import _single
from metanet.graph.encode import as_network, to_graph
from metanet.nets import ACTIVATIONS

__all__ = ["describe", "Description", "LayerSummary", "stats"]

_ACT_NAMES = list(ACTIVATIONS)


def stats(t: Tensor) -> dict[str, float]:
    """count, mean, std, min, max, mean absolute value and fraction of exact zeros of ``t`` (in float64); the count
    alone for an empty or a meta-device tensor."""
    if t.numel() == 0 or t.is_meta:  # a meta tensor (a network built under torch.device("meta")) has no values
        return {"count": t.numel()}
    t = t.detach().double().flatten()
    return {
        "count": t.numel(),
        "mean": t.mean().item(),
        "std": t.std(unbiased=False).item(),
        "min": t.min().item(),
        "max": t.max().item(),
        "abs_mean": t.abs().mean().item(),
        "zeros": (t == 0).double().mean().item(),
    }


@dataclass
class LayerSummary:
    """One neuron layer and the weight layer that produces it.

    Attributes:
        layer: neuron layer index (0 = input).
        kind: ``"input"``, ``"hidden"`` or ``"output"``.
        neurons: nodes in this layer.
        activation: activation applied to the layer.
        type, module: the producing weight layer's type (``"linear"`` / ``"conv2d"``) and module path (None for the
            input layer).
        edges: weight edges into this layer; residual_edges: residual edges into it.
        kernel: values per weight edge ``[kh, kw]``.
        weights, bias: :func:`stats` of the producing layer's weight and bias (None if absent).
    """

    layer: int
    kind: str
    neurons: int
    activation: str
    type: str | None = None
    module: str | None = None
    edges: int = 0
    residual_edges: int = 0
    kernel: list[int] | None = None
    weights: dict[str, float] | None = None
    bias: dict[str, float] | None = None


@dataclass
class Description:
    """What :func:`describe` found; ``str()`` gives a table, :meth:`to_dict` plain JSON-able data."""

    arch: str
    spec: dict
    nodes: int
    edges: int
    edge_dim: int
    parameters: int
    layers: list[LayerSummary] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The description as a plain, JSON-ready dict of its fields."""
        return asdict(self)

    def __str__(self) -> str:
        lines = [
            f"{self.arch}: {self.nodes} nodes, {self.edges} edges (edge_dim {self.edge_dim}), "
            f"{self.parameters} parameters",
            f"{'layer':>5}  {'kind':<6} {'type':<7} {'neurons':>7} {'act':<10} {'edges':>8} {'resid':>5} {'kernel':<6}"
            f" {'w.mean':>9} {'w.std':>9} {'w.min':>9} {'w.max':>9} {'b.mean':>9} {'b.std':>9}",
        ]

        def num(d: dict | None, k: str) -> str:
            if not d or k not in d:
                return f"{'-':>9}"
            v = d[k]  # 4 decimals where they say enough; tiny and huge values in 9 characters too
            return f"{v:>9.4f}" if v == 0 or 1e-3 <= abs(v) < 1e3 else f"{v:>9.2e}"

        for s in self.layers:
            kernel = "x".join(map(str, s.kernel)) if s.kernel else "-"
            lines.append(
                f"{s.layer:>5}  {s.kind:<6} {s.type or '-':<7} {s.neurons:>7} {s.activation:<10} {s.edges:>8} "
                f"{s.residual_edges:>5} {kernel:<6} {num(s.weights, 'mean')} {num(s.weights, 'std')} "
                f"{num(s.weights, 'min')} {num(s.weights, 'max')} {num(s.bias, 'mean')} {num(s.bias, 'std')}"
            )
        return "\n".join(lines)


def describe(graph: Any) -> Description:
    """Per-layer node/edge counts and weight statistics of a neural graph (or of a network, encoded first: a module,
    :func:`metanet.generate`'s result or a saved network's path, as :func:`to_graph` takes them).

    Raises:
        GraphError: the graph is malformed or is a batch of several graphs (describe its graphs one by one).
        FileFormatError: a path that is no network file.
    """
    given, graph = graph, as_network(graph)  # as to_graph takes it (a Generated, a path), not "expected a NeuralGraph"
    if graph is None and given is not None:  # a Generated holding no network: "expected a NeuralGraph, got NoneType"
        raise GraphError(f"describe() got a {type(given).__name__} whose .model is None: it holds no network to "
                         "describe; give a module, metanet.generate's result holding one, a saved network's path or a "
                         "NeuralGraph")
    if isinstance(graph, nn.Module):
        graph = to_graph(graph)
    if isinstance(graph, Batch):  # e.g. from a DataLoader with batch_size=1, as from_graph takes it
        if graph.num_graphs != 1:
            raise GraphError(f"describe() got a batch of {graph.num_graphs} graphs; describe them one by one: "
                             "metanet.graph.split(batch) gives the list of graphs")
        graph = graph.get_example(0)
    lay, x, ea = _single(graph)
    params = lay.to_params(ea, x[:, NODE_BIAS])
    acts = [int(a) for a in lay.plan.act_codes()]
    out = [LayerSummary(layer=0, kind=NODE_KINDS[0], neurons=lay.sizes[0], activation=_ACT_NAMES[acts[0]])]
    for wl in lay.layers:
        out.append(
            LayerSummary(
                layer=wl.index,
                kind="output" if wl.index == lay.num_layers else "hidden",
                neurons=wl.n_out,
                activation=_ACT_NAMES[acts[wl.index]],
                type=wl.type,
                module=wl.module,
                edges=wl.n_in * wl.n_out,
                residual_edges=wl.n_out if wl.residual else 0,
                kernel=list(wl.kernel),
                weights=stats(params[wl.weight]),
                bias=stats(params[wl.bias]) if wl.bias is not None else None,
            )
        )
    return Description(
        arch=lay.describe_arch(),
        spec=lay.spec,
        nodes=lay.num_nodes,
        edges=lay.num_edges,
        edge_dim=int(ea.shape[1]),
        parameters=sum(int(torch.Size(s.shape).numel()) for s in lay.slots.values()),
        layers=out,
    )
