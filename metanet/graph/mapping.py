r"""`Layout`: where every parameter of an architecture lives in its neural graph, as a differentiable mapping.

One :class:`Layout` per architecture (cached by the canonical spec JSON) holds the graph structure (node and
edge index tensors) and, for every parameter, the rows of ``edge_attr`` (weights) or of the bias column
(biases) that hold it. Both directions are pure slicing / reshaping / concatenation, so autograd flows through
them and a leading population dimension is carried along::

    lay = metanet.graph.layout("mlp:784-64-10:relu")
    edge_attr, node_bias = lay.from_params(params)          # params[name]: (P, *shape) -> (P, E, F), (P, N)
    params = lay.to_params(edge_attr, node_bias)            # and back (views where possible)
    x = lay.node_features(node_bias)                        # (P, N, NODE_DIM)

:func:`~metanet.graph.to_graph`, :func:`~metanet.graph.from_graph` and their batched versions are built on it.
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from numbers import Integral
from typing import Any, Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from metanet.errors import ArchError, GraphError
from metanet._state import out_of_memory_as
from metanet.graph.data import (
    EDGE_RESIDUAL,
    EDGE_WEIGHT,
    HIDDEN,
    INPUT,
    NODE_DIM,
    NODE_KINDS,
    OUTPUT,
)
from metanet.graph.plan import SUPPORTED, Plan, canonical_key, plan, spec_of
from metanet.nets import CNN, MLP, Arch, from_spec
from metanet.nets.spec import family_problem

def is_graph(obj: Any) -> bool:
    """Whether ``obj`` is a graph: a PyG ``Data`` or ``Batch`` (a :class:`~metanet.graph.NeuralGraph`, a batch of
    them, ...). The one rule of the package (``metanet.verify`` uses it too): duck typing took other objects for
    graphs (a ``torch.Tensor`` has a ``layout`` attribute)."""
    from torch_geometric.data import Data

    return isinstance(obj, Data)


#: the widest edge_attr to_graph pads to (a kernel's k_h * k_w is an int32 count too, as Arch sizes are)
_MAX_EDGE_DIM = 2**31 - 1

__all__ = ["Layout", "Slot", "layout"]


@dataclass(frozen=True)
class Slot:
    """Where one parameter lives: rows ``start:stop`` of ``edge_attr`` (its first ``width`` columns) for a weight,
    or of the node bias vector for a bias."""

    name: str
    source: str  # "edge" or "node"
    start: int
    stop: int
    width: int
    shape: tuple[int, ...]
    layer: int  # weight layer index (1-based)


class Layout:
    r"""The neural-graph layout of one architecture (build it with :func:`layout`, which caches).

    Args:
        plan: the architecture's :class:`~metanet.graph.plan.Plan`.

    Attributes:
        spec: the architecture spec (:func:`metanet.nets.spec` format); ``key``: its canonical JSON, which
            graphs store as ``arch``.
        sizes: neurons per neuron layer :math:`(n_0, \dots, n_L)`.
        layers: the :class:`~metanet.graph.plan.WeightLayer` s, in order.
        num_nodes (:math:`N`), num_edges (:math:`E`), edge_dim (smallest :math:`F`).
        node_start: first node of each neuron layer (:math:`L+2` entries, the last is :math:`N`).
        edge_start: first edge of each weight layer (:math:`L+1` entries, the last is :math:`E`); the residual
            edges of layer :math:`l` are its last :math:`n_l` edges.
        edge_index :math:`(2, E)`, edge_kind :math:`(E,)`, edge_layer :math:`(E,)`, edge_width :math:`(E,)`
            (real values per edge), node_kind / node_layer / node_act / node_pos :math:`(N,)`, node_has_bias
            :math:`(N,)` bool, node_static :math:`(N, \text{NODE\_DIM})` (the ``x`` columns with a zero bias).
        slots: parameter name -> :class:`Slot`, in ``state_dict`` order.
    """

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.spec = plan.spec
        self.key = plan.key
        self.sizes = plan.sizes
        self.layers = plan.layers
        self.num_layers = len(plan.layers)
        self.edge_dim = plan.edge_dim

        node_start = [0]
        for n in self.sizes:
            node_start.append(node_start[-1] + n)
        self.node_start = tuple(node_start)
        self.num_nodes = node_start[-1]

        srcs, dsts, kinds, widths, elayers, edge_start = [], [], [], [], [], [0]
        slots: dict[str, Slot] = {}
        for layer in self.layers:
            l = layer.index
            a, b = node_start[l - 1], node_start[l]
            n_in, n_out = layer.n_in, layer.n_out
            e0 = edge_start[-1]
            srcs.append((a + torch.arange(n_in)).repeat(n_out))
            dsts.append((b + torch.arange(n_out)).repeat_interleave(n_in))
            kinds.append(torch.full((n_in * n_out,), EDGE_WEIGHT))
            widths.append(torch.full((n_in * n_out,), layer.kk))
            slots[layer.weight] = Slot(layer.weight, "edge", e0, e0 + n_in * n_out, layer.kk, layer.weight_shape, l)
            if layer.bias is not None:
                slots[layer.bias] = Slot(layer.bias, "node", b, b + n_out, 1, (n_out,), l)
            count = n_in * n_out
            if layer.residual:
                if n_in != n_out:  # pragma: no cover - plan guarantees equal widths
                    raise GraphError(f"{layer.describe()}: a residual skip needs equal input and output widths")
                srcs.append(a + torch.arange(n_out))
                dsts.append(b + torch.arange(n_out))
                kinds.append(torch.full((n_out,), EDGE_RESIDUAL))
                widths.append(torch.ones(n_out, dtype=torch.long))
                count += n_out
            elayers.append(torch.full((count,), l))
            edge_start.append(e0 + count)
        self.edge_start = tuple(edge_start)
        self.num_edges = edge_start[-1]
        self.slots: dict[str, Slot] = slots
        self.param_names = tuple(slots)

        self.edge_index = torch.stack([torch.cat(srcs), torch.cat(dsts)])
        self.edge_kind = torch.cat(kinds)
        self.edge_width = torch.cat(widths)
        self.edge_layer = torch.cat(elayers)

        n_layers = len(self.sizes)
        counts = torch.tensor(self.sizes)
        self.node_layer = torch.arange(n_layers).repeat_interleave(counts)
        kind = torch.full((n_layers,), HIDDEN)
        kind[0], kind[-1] = INPUT, OUTPUT
        self.node_kind = kind.repeat_interleave(counts)
        self.node_act = torch.tensor(plan.act_codes()).repeat_interleave(counts)
        pos = torch.full((self.num_nodes,), -1)
        pos[: self.sizes[0]] = torch.arange(self.sizes[0])
        pos[node_start[-2]:] = torch.arange(self.sizes[-1])
        self.node_pos = pos
        has_bias = torch.zeros(self.num_nodes, dtype=torch.bool)
        for layer in self.layers:
            if layer.bias is not None:
                has_bias[node_start[layer.index]: node_start[layer.index + 1]] = True
        self.node_has_bias = has_bias
        #: edge ranges ``(start, stop)`` of the residual edges of each skip layer
        self.residual_rows = tuple(
            (edge_start[layer.index] - layer.n_out, edge_start[layer.index]) for layer in self.layers if layer.residual
        )
        static = torch.stack(
            [torch.zeros(self.num_nodes), self.node_layer.float(), self.node_kind.float(), self.node_act.float(),
             pos.float(), has_bias.float()], dim=1,
        )
        assert static.shape[1] == NODE_DIM
        self.node_static = static
        self._static_rest: dict[tuple, Tensor] = {}
        self._device_cache: dict[torch.device, dict[str, Tensor]] = {}
        self._edge_keys: tuple[Tensor, Tensor] | None = None
        self._graph_template: Any = None  # set by metanet.graph.encode
        self._factory: _Factory | None = None
        self._consts: dict[tuple, Tensor] = {}
        self._views: dict[tuple, tuple] = {}
        self._slot_rows = tuple(
            (sl.name, sl.source == "edge", sl.start, sl.stop, sl.width, sl.shape) for sl in self.slots.values()
        )
        self._getters = tuple(
            (name, tuple(name.split(".")[:-1]), name.split(".")[-1], torch.Size(sl.shape))
            for name, sl in self.slots.items()
        )

    # --- description ---------------------------------------------------------------------------
    def __repr__(self) -> str:
        return (
            f"Layout({self.describe_arch()}, nodes={self.num_nodes}, edges={self.num_edges}, "
            f"edge_dim={self.edge_dim}, params={len(self.slots)})"
        )

    def describe_arch(self) -> str:
        """A short human-readable name of the architecture."""
        fam = self.spec.get("family")
        if fam in ("mlp", "cnn"):
            return str(Arch.from_dict(self.spec))
        return "sequential:" + "-".join(map(str, self.sizes))

    def nodes(self, layer: int) -> slice:
        """Node rows of neuron layer ``layer`` (0 = input)."""
        if not 0 <= layer < len(self.sizes):
            raise GraphError(f"neuron layer {layer} does not exist; valid: 0..{len(self.sizes) - 1}")
        return slice(self.node_start[layer], self.node_start[layer + 1])

    def edges(self, layer: int) -> slice:
        """Edge rows of weight layer ``layer`` (1-based), residual edges included."""
        if not 1 <= layer <= self.num_layers:
            raise GraphError(f"weight layer {layer} does not exist; valid: 1..{self.num_layers}")
        return slice(self.edge_start[layer - 1], self.edge_start[layer])

    def layer_of_node(self, node: int) -> int:
        """The neuron layer (input = 0) of node ``node``."""
        return int(self.node_layer[node])

    def edge_mask(self, edge_dim: int | None = None) -> Tensor:
        """Boolean :math:`(E, F)`: which ``edge_attr`` entries hold real values (the rest is zero padding)."""
        f = self._check_dim(edge_dim)
        return torch.arange(f) < self.edge_width[:, None]

    def index(self, name: str, edge_dim: int | None = None) -> Tensor:
        """Index tensor of parameter ``name``, shaped like it: ``param == edge_attr.reshape(-1)[idx]`` for a weight
        (``edge_attr`` of width ``edge_dim``), ``param == node_bias[idx]`` for a bias."""
        s = self._slot(name)
        if s.source == "node":
            return torch.arange(s.start, s.stop)
        f = self._check_dim(edge_dim)
        idx = torch.arange(s.start, s.stop)[:, None] * f + torch.arange(s.width)[None, :]
        return idx.reshape(s.shape)

    # --- the mapping ---------------------------------------------------------------------------
    def to_params(self, edge_attr: Tensor, node_bias: Tensor) -> dict[str, Tensor]:
        r"""Parameters from graph values (views of them where the layout allows; differentiable).

        Args:
            edge_attr: edge values, :math:`(*, E, F)` with :math:`F \ge` ``edge_dim``; padding is ignored.
            node_bias: the bias column, :math:`(*, N)` (``x[..., NODE_BIAS]``); entries of neurons without a bias
                are ignored.

        Returns:
            ``{name: tensor of shape (*, *param.shape)}`` in ``state_dict`` order.
        """
        if edge_attr.dim() < 2 or edge_attr.shape[-2] != self.num_edges or edge_attr.shape[-1] < self.edge_dim:
            raise GraphError(
                f"edge values of shape {tuple(edge_attr.shape)} do not fit {self.describe_arch()}: expected "
                f"(..., {self.num_edges}, F) with F >= {self.edge_dim}"
            )
        lead = edge_attr.shape[:-2]
        if tuple(node_bias.shape) != (*lead, self.num_nodes):
            raise GraphError(
                f"node biases of shape {tuple(node_bias.shape)} do not fit {self.describe_arch()}: expected "
                f"{(*lead, self.num_nodes)} (the NODE_BIAS column of x)"
            )
        return self._to_params(edge_attr, node_bias, lead)

    def _to_params(self, edge_attr: Tensor, node_bias: Tensor, lead: tuple[int, ...]) -> dict[str, Tensor]:
        out = {}
        for name, src, a, b, width, shape in self._slot_rows:
            if src:
                out[name] = edge_attr[..., a:b, :width].reshape(*lead, *shape)
            else:
                out[name] = node_bias[..., a:b]
        return out

    def _gather(self, edge_attr: Tensor, x: Tensor, lead: tuple[int, ...]) -> dict[str, Tensor]:
        """Fresh (cloned) parameters from contiguous ``edge_attr`` :math:`(*, E, F)` and ``x`` :math:`(*, N, D)`:
        one strided view and one copy per parameter (the decoding fast path; no autograd needed)."""
        if not (edge_attr.is_contiguous() and x.is_contiguous()):
            out = self._to_params(edge_attr, x[..., 0], lead)
            return {k: v.clone() if v._base is not None else v for k, v in out.items()}
        f, d = edge_attr.shape[-1], x.shape[-1]
        e_off, x_off = edge_attr.storage_offset(), x.storage_offset()
        e_lead = tuple(self.num_edges * f for _ in lead)
        x_lead = tuple(self.num_nodes * d for _ in lead)
        out = {}
        for name, src, a, b, width, shape in self._slot_rows:
            if src:
                view_shape, strides, final = self._edge_view(shape, width, f)
                v = edge_attr.as_strided((*lead, *view_shape), (*e_lead, *strides), e_off + a * f)
                v = v.clone(memory_format=torch.contiguous_format)
                out[name] = v.view(*lead, *shape) if final else v
            else:
                v = x.as_strided((*lead, b - a), (*x_lead, d), x_off + a * d)
                out[name] = v.clone(memory_format=torch.contiguous_format)
        return out

    def _edge_view(self, shape: tuple[int, ...], width: int, f: int) -> tuple[tuple[int, ...], tuple[int, ...], bool]:
        """How a weight of ``shape`` sits in rows of width ``f``: (view shape, strides, needs a reshaping copy)."""
        k = (shape, width, f)
        v = self._views.get(k)
        if v is None:
            if len(shape) == 4:  # conv (out, in, kh, kw): rows o * n_in + i, kernel entries row-major
                v = (shape, (shape[1] * f, f, shape[3], 1), False)
            elif width == f or width == 1:  # linear: entry (o, j) at row o * n_in + j // w, column j % w
                n_in = shape[1] // width
                v = (shape, (n_in * f, 1 if width == f else f), False)
            else:  # linear reading S = width positions per channel, padded: (out, in, S), then a copy
                n_in = shape[1] // width
                v = ((shape[0], n_in, width), (n_in * f, f, 1), True)
            self._views[k] = v
        return v

    def from_params(self, params: Mapping[str, Tensor], edge_dim: int | None = None) -> tuple[Tensor, Tensor]:
        r"""Graph values from parameters (differentiable; always fresh tensors).

        Args:
            params: ``{name: tensor}`` with shapes :math:`(*, *\text{param.shape})` (same leading dims for all).
            edge_dim: :math:`F`, pad edge values to this width (default: the layout's ``edge_dim``).

        Returns:
            ``(edge_attr, node_bias)`` of shapes :math:`(*, E, F)` and :math:`(*, N)`.
        """
        return self._from_params(params, self._lead(params), self._check_dim(edge_dim))

    def _from_params(self, params: Mapping[str, Tensor], lead: tuple[int, ...], f: int) -> tuple[Tensor, Tensor]:
        n = self.num_edges * f * max(1, math.prod(lead))  # a large edge_dim
        with out_of_memory_as(lambda: GraphError(f"not enough memory for edge values of {n:,} numbers "
                                                 f"({self.num_edges:,} edges x edge_dim={f}); give a smaller "
                                                 f"edge_dim (at least {self.edge_dim})")):
            return self._values_of(params, lead, f)

    def _values_of(self, params: Mapping[str, Tensor], lead: tuple[int, ...], f: int) -> tuple[Tensor, Tensor]:
        ref = params[self.layers[0].weight]
        dtype, device = ref.dtype, ref.device
        pieces, biases = [], [self._const(self.sizes[0], 0, dtype, device).expand(*lead, self.sizes[0])]
        for layer in self.layers:
            w = params[layer.weight].reshape(*lead, layer.n_out * layer.n_in, layer.kk)
            pieces.append(F.pad(w, (0, f - layer.kk)) if layer.kk < f else w)
            if layer.residual:
                pieces.append(self._const(layer.n_out, f, dtype, device).expand(*lead, layer.n_out, f))
            if layer.bias is not None:
                biases.append(params[layer.bias])
            else:
                biases.append(self._const(layer.n_out, 0, dtype, device).expand(*lead, layer.n_out))
        return torch.cat(pieces, dim=-2), torch.cat(biases, dim=-1)

    def _const(self, n: int, f: int, dtype: torch.dtype, device: torch.device) -> Tensor:
        """Cached read-only constants: zeros ``(n,)`` for ``f == 0``, residual edge values ``(n, f)`` otherwise."""
        k = (n, f, dtype, device)
        t = self._consts.get(k)
        if t is None:
            if f == 0:
                t = torch.zeros(n, dtype=dtype, device=device)
            else:
                t = torch.zeros(n, f, dtype=dtype, device=device)
                t[:, 0] = 1.0
            self._consts[k] = t
        return t

    def node_features(self, node_bias: Tensor) -> Tensor:
        r"""Node features ``x`` :math:`(*, N, \text{NODE\_DIM})` from the bias column :math:`(*, N)`
        (differentiable in the bias; the other columns are the layout's constants)."""
        if node_bias.shape[-1:] != (self.num_nodes,):
            raise GraphError(f"node biases of shape {tuple(node_bias.shape)}: expected (..., {self.num_nodes})")
        rest = self.static_columns(node_bias.dtype, node_bias.device)
        lead = node_bias.shape[:-1]
        return torch.cat([node_bias.unsqueeze(-1), rest.expand(*lead, *rest.shape)], dim=-1)

    def static_columns(self, dtype: torch.dtype, device: torch.device) -> Tensor:
        """Columns 1.. of ``x`` (everything but the bias), :math:`(N, \\text{NODE\\_DIM} - 1)`, cached per dtype/device."""
        k = (dtype, device)
        rest = self._static_rest.get(k)
        if rest is None:
            rest = self._static_rest[k] = self.node_static[:, 1:].to(dtype=dtype, device=device)
        return rest

    def fixed_node_values(self, dtype: torch.dtype, device: torch.device) -> tuple[Tensor, Tensor]:
        """``(mask, values)`` :math:`(N, \\text{NODE\\_DIM})`: mask is 1 where ``x`` is fixed by the layout (every column
        but the bias, and the bias of neurons without one) and 0 at free biases; values are the fixed values (0 at
        free biases). A valid ``x`` has ``x * mask == values``."""
        k = ("fixed", dtype, device)
        v = self._consts.get(k)
        if v is None:
            mask = torch.ones(self.num_nodes, NODE_DIM, dtype=dtype, device=device)
            mask[:, 0] = (~self.node_has_bias).to(dtype)
            v = self._consts[k] = (mask, self.node_static.to(dtype=dtype, device=device))
        return v

    # --- modules -------------------------------------------------------------------------------
    def params_of(self, module: nn.Module, detach: bool = True) -> dict[str, Tensor]:
        """The module's parameters by name (detached unless ``detach=False``), checked against this layout."""
        out = {}
        try:
            for name, path, attr, shape in self._getters:
                m = module
                for part in path:
                    m = m._modules[part]
                p = m._parameters[attr]
                if p.shape != shape:
                    raise KeyError(name)
                out[name] = p.detach() if detach else p
        except (KeyError, AttributeError, TypeError):
            params = {k: v.detach() for k, v in module.named_parameters()}
            self._lead(params)  # raises a precise message
            raise GraphError(f"the module's parameters do not match {self.describe_arch()}") from None
        return out

    def build(self, params: Mapping[str, Tensor] | None = None) -> nn.Module:
        """A module of this architecture (``MLP``, ``CNN`` or ``nn.Sequential``).

        Without ``params`` it is freshly initialised (:func:`metanet.nets.from_spec`); with ``params`` (one network,
        unbatched) they become its parameters as they are (wrapped in ``nn.Parameter``, not copied: pass tensors the
        module may own) and the module is in eval mode. Cheap: the module structure is cloned from a cached
        prototype, nothing is initialised.
        """
        if params is None:
            return self._fresh()
        lead = self._lead(params)
        if lead:
            raise GraphError(f"build() takes one network's parameters; got a leading batch shape {tuple(lead)}")
        return self._build(params)

    def _build(self, params: Mapping[str, Tensor]) -> nn.Module:
        if self._factory is None:
            self._factory = _Factory(self._fresh().eval())
        return self._factory(params)

    def _fresh(self) -> nn.Module:
        try:
            return from_spec(self.spec)
        except ArchError as e:
            raise GraphError(f"cannot build the network of this graph: {e}") from None

    # --- internals -----------------------------------------------------------------------------
    def structure(self, device: torch.device | str | None = None) -> dict[str, Tensor]:
        """The graph structure tensors (shared, read-only) on ``device``."""
        device = torch.device("cpu" if device is None else device)
        d = self._device_cache.get(device)
        if d is None:
            d = {k: getattr(self, k).to(device) for k in
                 ("edge_index", "edge_kind", "node_kind", "node_layer", "node_act", "node_pos")}
            self._device_cache[device] = d
        return d

    def _slot(self, name: str) -> Slot:
        try:
            return self.slots[name]
        except KeyError:
            raise GraphError(f"{self.describe_arch()} has no parameter {name!r}; valid: {', '.join(self.slots)}") from None

    def _check_dim(self, edge_dim: int | None) -> int:
        if edge_dim is None:
            return self.edge_dim
        if isinstance(edge_dim, Integral) and not isinstance(edge_dim, bool):
            edge_dim = int(edge_dim)  # a NumPy integer (e.g. read from a config or an array) is a width too
        if isinstance(edge_dim, bool) or not isinstance(edge_dim, int):
            raise GraphError(f"edge_dim must be an integer >= {self.edge_dim} (columns of edge_attr), got "
                             f"{edge_dim!r:.100} ({type(edge_dim).__name__})")
        if edge_dim > _MAX_EDGE_DIM:  # torch's pad overflows (a raw TypeError / RuntimeError) far below memory limits
            raise GraphError(f"edge_dim={edge_dim!r:.40} is too large; valid: an integer from {self.edge_dim} (this "
                             f"architecture's widest kernel) to {_MAX_EDGE_DIM}")
        if edge_dim < self.edge_dim:
            widest = max(self.layers, key=lambda layer: layer.kk)
            raise GraphError(
                f"edge_dim={edge_dim!r} is too small for {self.describe_arch()}: {widest.describe()} needs "
                f"{widest.kk} values per edge; valid: an integer >= {self.edge_dim}"
            )
        return edge_dim

    def _lead(self, params: Mapping[str, Any]) -> tuple[int, ...]:
        missing = [k for k in self.slots if k not in params]
        extra = [k for k in params if k not in self.slots]
        if missing or extra:
            raise GraphError(
                f"parameters do not match {self.describe_arch()}: missing {missing}, unexpected {extra}; "
                f"expected {', '.join(self.slots)}"
            )
        lead = None
        for s in self.slots.values():
            p = params[s.name]
            if not isinstance(p, Tensor):
                raise GraphError(f"parameter {s.name!r} must be a tensor, got {type(p).__name__}")
            k = p.dim() - len(s.shape)
            if k < 0 or tuple(p.shape[k:]) != s.shape or (lead is not None and tuple(p.shape[:k]) != lead):
                raise GraphError(
                    f"parameter {s.name!r} has shape {tuple(p.shape)}; {self.describe_arch()} needs "
                    f"{(*(lead or ()), *s.shape)} (leading population dims allowed, the same for every parameter)"
                )
            lead = tuple(p.shape[:k])
        return lead or ()

    def edge_keys(self) -> tuple[Tensor, Tensor]:
        """Sorted ``(kind * N + src) * N + dst`` keys of the canonical edges, and the sorting permutation."""
        if self._edge_keys is None:
            n = self.num_nodes
            keys = (self.edge_kind * n + self.edge_index[0]) * n + self.edge_index[1]
            self._edge_keys = torch.sort(keys)
        return self._edge_keys

    def describe_node(self, node: int) -> str:
        """A human-readable name of node ``node`` (kind, index within its layer, layer) for messages."""
        if not 0 <= node < self.num_nodes:
            return f"node {node} (out of range 0..{self.num_nodes - 1})"
        l = int(self.node_layer[node])
        return f"node {node} ({NODE_KINDS[int(self.node_kind[node])]} neuron {node - self.node_start[l]} of layer {l})"


class _Factory:
    """Makes modules like a prototype (same classes and settings) around given parameter tensors, fast.

    Every module made is a shallow copy of its prototype with its own containers (parameter / module / hook
    dicts, lists, sets), so nothing mutable is shared; no parameter is allocated or initialised.
    """

    def __init__(self, proto: nn.Module, prefix: str = "") -> None:
        self.cls = proto.__class__
        self.base = {k: v for k, v in proto.__dict__.items() if k not in ("_parameters", "_modules")}
        self.mutable = tuple(k for k, v in self.base.items() if isinstance(v, (dict, list, set)))
        self.params = tuple(
            (k, None if p is None else prefix + k, p is not None and p.requires_grad)
            for k, p in proto._parameters.items()
        )
        self.children = tuple((k, _Factory(m, f"{prefix}{k}.")) for k, m in proto._modules.items())

    def __call__(self, params: Mapping[str, Tensor]) -> nn.Module:
        d = self.base.copy()
        for k in self.mutable:
            d[k] = d[k].copy()
        d["_parameters"] = {
            k: (None if name is None else _param(params[name], grad)) for k, name, grad in self.params
        } if self.params else {}
        d["_modules"] = {k: f(params) for k, f in self.children} if self.children else {}
        new = _new(self.cls)
        _set_dict(new, "__dict__", d)
        return new


_new = object.__new__
_set_dict = object.__setattr__
_make_subclass = torch.Tensor._make_subclass


def _param(t: Tensor, requires_grad: bool) -> nn.Parameter:
    if type(t) is Tensor:
        return _make_subclass(nn.Parameter, t, requires_grad)  # what nn.Parameter() does for a plain tensor
    return nn.Parameter(t, requires_grad)


# --- cache -------------------------------------------------------------------------------------
#: most layouts kept, and most edges in all: a layout holds ~56 bytes per edge (structure tensors, sorted edge keys),
#: ~100 MB for mlp:784-1024-1024-10, so a count limit alone let a sweep over wide networks hold tens of GB
_KEY_CACHE = 256
_CACHE_EDGES = 2**24
_BY_KEY: "OrderedDict[str, Layout]" = OrderedDict()
_CACHE_LOCK = threading.Lock()


def _from_key(key: str) -> Layout:
    with _CACHE_LOCK:
        lay = _BY_KEY.get(key)
        if lay is not None:
            _BY_KEY.move_to_end(key)
            return lay
    lay = Layout(plan(json.loads(key)))
    with _CACHE_LOCK:
        lay = _BY_KEY.setdefault(key, lay)  # another thread may have built it meanwhile: keep one
        _BY_KEY.move_to_end(key)
        edges = sum(v.num_edges for v in _BY_KEY.values())
        while len(_BY_KEY) > 1 and (len(_BY_KEY) > _KEY_CACHE or edges > _CACHE_EDGES):
            _, old = _BY_KEY.popitem(last=False)  # least recently used; the newest always stays
            edges -= old.num_edges
            for k in [k for k, v in _BY_TEXT.items() if v is old]:  # else these aliases would keep it alive
                del _BY_TEXT[k]
    return lay


_BY_TEXT: "OrderedDict[Any, Layout]" = OrderedDict()
_TEXT_CACHE = 512


def _remember(k: Any, lay: Layout) -> Layout:
    with _CACHE_LOCK:
        if _BY_KEY.get(lay.key) is lay:  # not an alias of a layout the size limit has already dropped
            _BY_TEXT[k] = lay
            if len(_BY_TEXT) > _TEXT_CACHE:
                _BY_TEXT.popitem(last=False)
    return lay


def _key(spec: dict) -> str:
    try:
        return canonical_key(spec)
    except (TypeError, ValueError) as e:
        raise GraphError(f"an architecture spec must be plain JSON data: {e}") from None


def layout(obj: Any) -> Layout:
    """The (cached) :class:`Layout` of an architecture.

    Args:
        obj: a supported ``nn.Module`` (metanet ``MLP`` / ``CNN`` or a plain ``nn.Sequential``), a spec dict
            (:func:`metanet.nets.spec`), its JSON text (a graph's ``arch``), an :class:`~metanet.nets.Arch` or its
            string (``"mlp:784-64-10:relu"``), a ``Layout``, a :class:`~metanet.graph.NeuralGraph` (its ``arch``),
            or :func:`metanet.generate`'s result (its network's).

    Raises:
        GraphError: the architecture cannot be encoded; the message names the offending layer.
    """
    if isinstance(obj, Layout):
        return obj
    if isinstance(obj, (MLP, CNN)):
        if type(obj) not in (MLP, CNN):
            raise GraphError(
                f"{type(obj).__name__} subclasses metanet.nets.{'MLP' if isinstance(obj, MLP) else 'CNN'}, but its forward may "
                f"differ and a graph would decode to the plain family; supported: {SUPPORTED}"
            )
        # the layout is the arch's (cached by it): a module that is not the arch's network (a replaced activation or
        # conv stride) would be graphed as the arch's, and from_graph would give another function
        problem = family_problem(obj)
        if problem:
            raise GraphError(f"cannot encode this network as a neural graph: {problem}")
        k = (type(obj), obj.arch)
        lay = _BY_TEXT.get(k)
        return lay if lay is not None else _remember(k, _from_key(canonical_key(obj.arch.to_dict())))
    if isinstance(obj, nn.Module):
        return _from_key(canonical_key(spec_of(obj)))
    if isinstance(obj, Arch):
        return _from_key(canonical_key(obj.to_dict()))
    if isinstance(obj, Plan):
        return _from_key(obj.key)
    if isinstance(obj, str):
        lay = _BY_TEXT.get(obj)
        if lay is not None:
            return lay
        text = obj.strip()
        if text.startswith(("{", "[")):
            try:
                spec = json.loads(text)
            except (json.JSONDecodeError, RecursionError) as e:  # RecursionError: nested too deeply (corrupt data)
                raise GraphError(f"the architecture JSON is malformed ({e}): {text[:200]!r}") from None
        else:
            try:
                spec = Arch.parse(text).to_dict()
            except ArchError as e:
                if text.endswith(".safetensors") or os.path.isfile(text):  # a saved network, not an arch string
                    raise GraphError(f"layout() got the file path {text[:200]!r}, but it reads architectures, not "
                                     "files: give layout(metanet.load(path))") from None
                raise GraphError(f"invalid architecture {text[:200]!r}: {e}") from None
        if not isinstance(spec, dict):
            plan(spec)  # raises a GraphError naming what a spec must be
        return _remember(obj, _from_key(_key(spec)))
    if isinstance(obj, dict):
        return _from_key(_key(obj))
    from metanet.verify import _is_generated

    if _is_generated(obj):  # metanet.generate's result: the architecture of its network
        return layout(obj.model)
    if is_graph(obj):  # a NeuralGraph: its own; a one-graph Batch its graph's; else a GraphError saying why not
        from metanet.graph.data import NeuralGraph

        return layout(NeuralGraph._single_arch(obj))
    if isinstance(obj, (bytes, os.PathLike)):  # a str path gets this hint above: a Path or bytes path the same
        text = os.fsdecode(obj)[:200]
        what = "the file path" if isinstance(obj, os.PathLike) else "the bytes"
        raise GraphError(f"layout() got {what} {text!r}, but it reads architectures, not files: give "
                         "layout(metanet.load(path)) for a saved network (an architecture string must be a str)")
    raise GraphError(
        f"cannot find the architecture of a {type(obj).__name__}; expected an nn.Module, a spec dict, its JSON, "
        "an Arch or an architecture string such as 'mlp:784-64-10:relu'"
    )
