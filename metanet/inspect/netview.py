"""`NetView`: a supported network seen as layers of neurons, with a forward pass that can mask them.

Inspection and editing need the same three things from a network, whatever its family:

- its **hidden layers**: the neurons (units of an MLP, channels of a CNN) and where their weights live;
- a forward pass that multiplies neuron outputs by a **mask** given per layer, for K variants at once
  (masks of shape ``(K, width)``): ablating all H neurons of a layer is one pass with the ``(H, H)`` mask
  ``1 - eye(H)``, and the recorded activations come from the same code path;
- for each neuron, the **consumers** of its output (the weight columns that read it), so an edit made in
  weight space is exactly the edit the mask makes.

Numbering, as in the neural graph (:mod:`metanet.graph`) and the reader: the input is neuron layer 0 and the
hidden layer computed by weight layer ``i`` (the ``i`` of ``layers.{i}`` in metanet's families; for an
``nn.Sequential`` the i-th ``Linear``/``Conv2d``, from 0) is neuron layer ``i + 1``. So neuron ``(layer, index)``
is unit / channel ``index`` of that layer, its incoming weights are weight layer (*region*) ``layer - 1`` and
its outgoing weights region ``layer``. Regions, for pruning and precision, are the weight layers, from 0.

On a residual MLP layer (``h + act(W h + b)``) the neuron is the residual-branch unit ``act(W h + b)_j``; its
value joins the residual stream, so it is read by every later layer up to the next non-residual one.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import Tensor, nn

from metanet.errors import ArchError, ConfigError, whole_number
from metanet.nets import CNN, MLP, activation_name, spec
from metanet.nets.spec import weights_problem

__all__ = ["NetView", "Layer", "Consumer", "Region", "view", "as_model"]


@dataclass(frozen=True)
class Consumer:
    """Weight layer ``weight`` reads neuron ``j`` of a layer through input columns ``j*group .. (j+1)*group``
    (a conv consumer: input channel ``j``). ``exclusive``: those columns carry this neuron's output only (no
    residual stream mixes another layer's neuron into them). ``commutes``: which factors ``a`` pass unchanged
    through the modules between the neuron and these columns, ``g(a * x) = a * g(x)``: ``"any"`` (linear: Flatten,
    average pooling, eval Dropout), ``"positive"`` (``a >= 0``: max pooling, ReLU) or ``"none"``."""

    weight: str
    bias: str | None
    group: int
    exclusive: bool
    commutes: str = "any"

    def columns(self, w: Tensor, j: int) -> Tensor:
        """The view of ``w`` (this consumer's weight) that multiplies neuron ``j``."""
        return w[:, j * self.group : (j + 1) * self.group]


@dataclass(frozen=True)
class Layer:
    """One hidden layer, neuron layer ``index``: ``width`` neurons computed by weight layer ``index - 1``.

    ``activation``: what the neuron applies to its pre-activation, as a name of
    :data:`~metanet.nets.ACTIVATIONS` (None: none); an ``nn.Sequential`` that stacks several before the next weight
    layer gives their chain in order, joined by ``+`` (``"tanh+relu"`` is ``relu(tanh(z))``)."""

    index: int
    width: int
    conv: bool
    weight: str
    bias: str | None
    skip: bool
    activation: str | None
    consumers: tuple[Consumer, ...]
    fan_in: int

    @property
    def kind(self) -> str:
        return "channel" if self.conv else "unit"


@dataclass(frozen=True)
class Region:
    """A weight layer (a "region" for precision and pruning): its parameter names and shape."""

    index: int
    weight: str
    bias: str | None
    conv: bool
    out_features: int
    in_features: int


def as_model(model: Any, *, inplace: bool = False) -> tuple[nn.Module, str | None]:
    """``(module, source)``: the network ``model`` stands for, as :func:`metanet.verify` and :func:`metanet.read`
    take one, and where it came from (``source``: None for a module given as it is).

    A module is returned as it is; :func:`metanet.generate`'s result stands for its ``.model`` (the same
    object: editing it ``inplace`` edits ``g.model``); the path of a network saved with :func:`metanet.save` is
    loaded (the file is only read); a :class:`~metanet.graph.NeuralGraph` is decoded with
    :func:`~metanet.graph.from_graph` (a new module). Anything else is returned as it is, for NetView's error.

    Raises:
        ArchError: a Generated whose ``.model`` is no module (None, a path, a graph...).
        ConfigError: ``inplace`` with a path or a graph: no module the caller holds could receive the edit.
        FileFormatError: a path that is no network file. GraphError: a malformed graph.
    """
    if isinstance(model, nn.Module):
        return model, None
    if isinstance(model, (str, bytes, os.PathLike)):
        if inplace:  # the edit would land in a module loaded here and dropped: the file is never written
            raise ConfigError(f"inplace=True cannot edit the file {os.fsdecode(model)!r}: an edit never writes to "
                              "its input file; edit without inplace and save the result (result.save(path)), or "
                              "load the network first (metanet.load) and edit that module in place")
        from metanet.graph.encode import as_network

        return as_network(model), os.fsdecode(model)
    from metanet.verify import _is_generated

    if _is_generated(model):
        if not isinstance(model.model, nn.Module):  # else a str there is read by spec() as an architecture string
            raise ArchError(f"got a Generated whose .model is {_a(model.model)}, not a network: a Generated stands "
                            "for the nn.Module metanet.generate chose; give that module, the path of a network saved "
                            "with metanet.save, or a NeuralGraph")
        return model.model, "Generated.model"
    from torch_geometric.data import Data

    if isinstance(model, Data):
        if inplace:  # from_graph makes a new module: the graph itself would not change
            raise ConfigError(f"inplace=True cannot edit a {type(model).__name__}: it is decoded into a new "
                              "network, which the edit returns; edit without inplace and encode the result "
                              "again (metanet.graph.to_graph(result.model)) if you need a graph")
        from metanet.graph import from_graph

        return from_graph(model), f"{type(model).__name__} (decoded with from_graph)"
    return model, None


def _a(x: object) -> str:
    """``x``'s type for a message: "None", "a str", "an int"."""
    name = type(x).__name__
    return "None" if x is None else f"{'an' if name[0] in 'aeiouAEIOU' else 'a'} {name}"


# ------------------------------------------------------------------------------------------ stages
# A network is run as: prelude(x) -> h; then per hidden layer: z = pre(h) (neuron outputs), z *= mask,
# h = post(h, z); finally head(h) -> logits. Neuron dim of z: last (units) or 1 (channels, (B, C, H, W)).


@dataclass
class _Stage:
    layer: Layer
    pre: Callable[[Tensor], Tensor]
    post: Callable[[Tensor, Tensor], Tensor]


_LINEAR = (nn.Flatten, nn.Identity, nn.Dropout, nn.AvgPool2d, nn.AdaptiveAvgPool2d)
_POSITIVE = (nn.MaxPool2d, nn.AdaptiveMaxPool2d, nn.ReLU, nn.LeakyReLU)


def _masked(zk: Tensor, m: Tensor, layer: Layer, finite: bool) -> Tensor:
    """Outputs ``zk`` ``(K or 1, N, width, ...)`` of ``layer`` times the masks ``m`` ``(K, width)``; ``finite``:
    whether ``zk`` holds only finite values. NaN * 0 is NaN: a zeroed NaN/inf neuron outputs 0, as removing it (zero
    weights in) does."""
    # the width spelt out: with K = 0 variants a -1 is ambiguous (a raw RuntimeError)
    shape = (m.shape[0], 1, layer.width, 1, 1) if layer.conv else (m.shape[0], 1, layer.width)
    m = m.to(zk.dtype).view(shape)
    zm = zk * m
    return zm if finite else torch.where(m == 0, 0, zm)


def _as_int(index: object) -> int:
    """``index`` as an int (:func:`metanet.errors.whole_number`: ``1.9`` is not layer 1), else ValueError."""
    i = whole_number(index)
    if i is None:
        raise ValueError(f"{index!r} is not a whole number")
    return i


def _commutes(mods: list[nn.Module]) -> str:
    """Which factors pass through ``mods`` per channel: "any", "positive" (>= 0) or "none" (see Consumer)."""
    if all(isinstance(m, _LINEAR) for m in mods):
        return "any"
    if all(isinstance(m, _LINEAR + _POSITIVE) for m in mods):
        return "positive"
    return "none"


def _module_name(name: str, position: int) -> str:
    """A module of an ``nn.Sequential`` in a message: ``3`` when named by its position, ``'fc2'`` otherwise."""
    return str(position) if name == str(position) else repr(name)


def _seq(mods: list[nn.Module]) -> Callable[[Tensor], Tensor]:
    def run(h: Tensor) -> Tensor:
        for m in mods:
            h = m(h)
        return h

    return run


class NetView:
    """A supported network (metanet ``MLP`` incl. residual skips, ``CNN``, or a plain ``nn.Sequential``) as
    hidden layers of neurons with a maskable forward pass. The view reads the module's parameters live, so
    edits made to the module's weights are seen by later calls. A saved network's path, :func:`metanet.generate`'s
    result or a NeuralGraph is taken as the network it stands for (:func:`as_model`)."""

    def __init__(self, model: nn.Module) -> None:
        model, source = as_model(model)
        if not isinstance(model, nn.Module):
            # a Generated's .model comes back unchecked: a str there would be read by spec() as an architecture
            # string, then every parameter access is a raw AttributeError
            got = type(model).__name__ + (f" (from {source})" if source else "")
            raise ArchError(f"cannot inspect or edit a {got}: not a network; give an nn.Module (metanet.nets.MLP, "
                            "CNN or a plain nn.Sequential), the path of a network saved with metanet.save, "
                            "metanet.generate's result holding a module, or a NeuralGraph")
        self.model = model
        try:
            self.spec = spec(model)
        except ArchError as e:
            raise ArchError(f"cannot inspect or edit this network: {e}") from None
        empty = weights_problem(model)
        if empty:  # meta tensors: every measurement would be a raw RuntimeError
            raise ArchError(f"cannot inspect or edit this network: {empty}")
        # one layer object used twice (shared weights): an edit of one layer's neurons changed the other use too,
        # and the parameter dict, which names a shared tensor once, had no entry for the second (a raw KeyError)
        first: dict[int, str] = {}
        for name, p in model.named_parameters(remove_duplicate=False):
            other = first.setdefault(id(p), name)
            if other != name:
                raise ArchError(f"cannot inspect or edit this network: parameter {name!r} is the same tensor as "
                                f"{other!r} (one layer used twice, or tied weights), so an edit of one layer would "
                                "change the other; give each layer its own copy (e.g. copy.deepcopy(layer))")
        self.family = self.spec["family"]
        if isinstance(model, MLP):
            self._build_mlp(model)
        elif isinstance(model, CNN):
            self._build_cnn(model)
        else:
            self._build_sequential(model)
        self.layers: list[Layer] = [s.layer for s in self._stages]
        self._by_index = {layer.index: layer for layer in self.layers}

    # ------------------------------------------------------------------ construction per family
    def _build_mlp(self, model: MLP) -> None:
        arch = model.arch
        skips = set(arch.skip_layers())
        n = arch.num_layers
        act = arch.activation
        self.regions = [
            Region(i, f"layers.{i}.weight", f"layers.{i}.bias" if arch.bias else None, False,
                   arch.widths[i + 1], arch.widths[i])
            for i in range(n)
        ]
        self._prelude = lambda x: x.flatten(1)
        self._stages = []
        for i in range(n - 1):
            # every layer reading the residual stream position this neuron writes to
            consumers = []
            k = i + 1
            while True:
                consumers.append(Consumer(f"layers.{k}.weight", self.regions[k].bias, 1,
                                          exclusive=(k == i + 1 and i not in skips)))
                if k not in skips:
                    break
                k += 1
            layer = Layer(i + 1, arch.widths[i + 1], False, f"layers.{i}.weight", self.regions[i].bias, i in skips,
                          act, tuple(consumers), arch.widths[i])
            lin = model.layers[i]
            pre = (lambda lin: lambda h: model.act(lin(h)))(lin)
            post = (lambda h, z: h + z) if i in skips else (lambda h, z: z)
            self._stages.append(_Stage(layer, pre, post))
        self._head = model.layers[n - 1]

    def _build_cnn(self, model: CNN) -> None:
        arch = model.arch
        n = arch.num_layers
        bias = arch.bias
        k2 = arch.kernel * arch.kernel
        self.regions = [
            Region(i, f"layers.{i}.weight", f"layers.{i}.bias" if bias else None, i < n - 1,
                   arch.widths[i + 1], arch.widths[i] * (k2 if i < n - 1 else 1))
            for i in range(n)
        ]
        self._prelude = lambda x: x
        self._stages = []
        for i in range(n - 1):
            cons = Consumer(f"layers.{i + 1}.weight", self.regions[i + 1].bias, 1, True)
            layer = Layer(i + 1, arch.widths[i + 1], True, f"layers.{i}.weight", self.regions[i].bias, False,
                          arch.activation, (cons,), arch.widths[i] * k2)
            conv = model.layers[i]
            pre = (lambda conv: lambda h: model.act(conv(h)))(conv)
            post = (lambda h, z: z.mean(dim=(2, 3))) if i == n - 2 else (lambda h, z: z)
            self._stages.append(_Stage(layer, pre, post))
        self._head = model.layers[n - 1]

    def _build_sequential(self, model: nn.Sequential) -> None:
        mods = list(model)
        names = list(model._modules)  # nn.Sequential(OrderedDict(...)) names its parameters by these, not by index
        wpos = [p for p, m in enumerate(mods) if isinstance(m, (nn.Linear, nn.Conv2d))]
        if len(wpos) < 1:
            raise ArchError("cannot inspect or edit an nn.Sequential without Linear or Conv2d layers")
        # channels per example at each weight layer's output, from a probe pass (needed to map conv channels
        # onto the columns of a Linear that reads them after Flatten)
        self.regions = []
        for t, p in enumerate(wpos):
            m = mods[p]
            conv = isinstance(m, nn.Conv2d)
            fan_in = m.in_channels * math.prod(m.kernel_size) if conv else m.in_features
            out = m.out_channels if conv else m.out_features
            n = names[p]
            self.regions.append(Region(t, f"{n}.weight", f"{n}.bias" if m.bias is not None else None, conv, out, fan_in))
        self._prelude = _seq(mods[: wpos[0]])
        self._stages = []
        for t in range(len(wpos) - 1):
            p, nxt = wpos[t], wpos[t + 1]
            seg = mods[p + 1 : nxt]
            # the neuron output is taken after the last activation that comes before any Flatten
            cut = 0
            for q, m in enumerate(seg):
                if isinstance(m, nn.Flatten):
                    break
                if activation_name(m) is not None:
                    cut = q + 1
            r, c = self.regions[t], self.regions[t + 1]
            consumer_mod = mods[nxt]
            # named as the parameters are: module 'fc2' of an OrderedDict, not its position 3
            at, src = _module_name(names[nxt], nxt), _module_name(names[p], p)
            if isinstance(consumer_mod, nn.Conv2d):
                if not r.conv:
                    raise ArchError(f"module {at} (Conv2d) reads the output of a Linear layer (module {src}); not "
                                    "supported: convolutions must read convolutions")
                group = 1
            else:
                # a Linear without a Flatten before it reads the image's last axis (its width), not its channels; a
                # Linear's units applied to images sit interleaved in a later Flatten, not in blocks: both were
                # accepted whenever the sizes divided, and an edit zeroed other neurons' weights
                if r.conv and not any(isinstance(m, nn.Flatten) for m in seg):
                    raise ArchError(f"module {at} (Linear) reads the 4-D output of Conv2d module {src} without an "
                                    "nn.Flatten() between them, so it reads the images' last axis, not their "
                                    "channels; insert nn.Flatten() (after nn.AdaptiveAvgPool2d(1) for global average "
                                    "pooling) before the Linear layer")
                if not r.conv and consumer_mod.in_features != r.out_features:
                    raise ArchError(f"module {at} (Linear with {consumer_mod.in_features} inputs) does not read the "
                                    f"{r.out_features} outputs of Linear module {src} one to one; supported: "
                                    f"in_features={r.out_features}, and a Linear that reads images only after their "
                                    "nn.Flatten()")
                if consumer_mod.in_features % r.out_features:
                    raise ArchError(
                        f"module {at} (Linear with {consumer_mod.in_features} inputs) does not read whole channels "
                        f"of the {r.out_features} outputs of module {src}; cannot map neurons onto its weight columns"
                    )
                group = consumer_mod.in_features // r.out_features
            acts = [activation_name(m) for m in seg[:cut] if activation_name(m) is not None]
            # the whole chain: the last activation alone made edits treat relu(tanh(z)) as relu(z) (a clamp
            # to 0.9 gave 0.72)
            layer = Layer(t + 1, r.out_features, r.conv, r.weight, r.bias, False, "+".join(acts) or None,
                          (Consumer(c.weight, c.bias, group, True, _commutes(seg[cut:])),), r.in_features)
            post = (lambda rest: lambda h, z: rest(z))(_seq(seg[cut:]))
            self._stages.append(_Stage(layer, _seq([mods[p], *seg[:cut]]), post))
        self._head = _seq(mods[wpos[-1] :])

    # ------------------------------------------------------------------ lookup
    def layer(self, index: int) -> Layer:
        """Hidden neuron layer ``index`` (1 = first hidden layer); ArchError naming the valid ones otherwise."""
        try:
            return self._by_index[_as_int(index)]
        except (KeyError, TypeError, ValueError):
            raise ArchError(
                f"layer {index!r} is not a hidden layer of this network ({self.describe()}); valid hidden layers "
                f"(input = layer 0): "
                f"{', '.join(f'{l.index} ({l.width} {l.kind}s)' for l in self.layers) or 'none'}"
            ) from None

    def region(self, index: int) -> Region:
        """Weight layer ``index``; ArchError naming the valid range otherwise."""
        try:
            i = _as_int(index)
        except (TypeError, ValueError):
            i = -1
        if not 0 <= i < len(self.regions):
            raise ArchError(
                f"region {index!r} does not exist: this network ({self.describe()}) has weight layers "
                f"0..{len(self.regions) - 1}"
            )
        return self.regions[i]

    def describe(self) -> str:
        """The network's architecture as a string: the Arch of a metanet network; for an ``nn.Sequential`` its
        weight layers in order (the regions 0, 1, ...), each by its module name, as its parameters are named:
        ``nn.Sequential(fc1: Linear 64->16, head: Linear 16->10)``."""
        if self.family in ("mlp", "cnn"):
            return str(self.model.arch)
        # the module names, not bare sizes: a conv was '9->4' (its fan-in, not its 1 input channel), and a user
        # could not tell which of their layers a region or a layer number is
        mods = dict(self.model.named_children())
        parts = []
        for r in self.regions:
            name = r.weight.removesuffix(".weight")
            m = mods[name]
            parts.append(f"{name}: Conv2d {m.in_channels}->{m.out_channels} {'x'.join(map(str, m.kernel_size))}"
                         if r.conv else f"{name}: Linear {m.in_features}->{m.out_features}")
        return "nn.Sequential(" + ", ".join(parts) + ")"

    def params(self) -> dict[str, Tensor]:
        """The network's parameters by name (the tensors themselves, not copies)."""
        return dict(self.model.named_parameters())

    # ------------------------------------------------------------------ forward
    def forward(
        self,
        x: Tensor,
        masks: dict[int, Tensor] | None = None,
        record: bool = False,
    ) -> tuple[Tensor, dict[int, Tensor]]:
        """Logits with neuron outputs multiplied by ``masks`` (``{layer: (K, width)}``, one K for all layers).

        Returns ``(logits, recorded)``: logits ``(K, N, C)`` when masks are given, else ``(N, C)``; with
        ``record``, ``recorded[layer]`` is that layer's neuron outputs (``(N, width)`` for units, ``(N, C, H, W)``
        for channels), taken after masking (only allowed without masks).

        The network is run in eval mode (an ``nn.Sequential``'s Dropout is the identity) whatever mode it is
        in, and its modules' modes are put back afterwards: the pass is what ``model.eval()(x)`` computes.
        """
        # a training-mode Dropout made every measurement a random draw (and its masked variants incomparable)
        training = [m for m in self.model.modules() if m.training]
        for m in training:
            m.training = False
        try:
            return self._forward(x, masks, record)
        finally:
            for m in training:
                m.training = True

    def _forward(self, x: Tensor, masks: dict[int, Tensor] | None, record: bool) -> tuple[Tensor, dict[int, Tensor]]:
        # keys read as layer() reads them: an ArchError naming the hidden layers (int() raised a ValueError for 'a'
        # and took 1.9 as layer 1)
        masks = {self.layer(k).index: v for k, v in (masks or {}).items()}
        if record and masks:
            raise ConfigError("record=True is only supported without masks; record the unmasked outputs, or give "
                              "masks without record")
        for k, m in masks.items():
            L = self.layer(k)
            if not isinstance(m, Tensor) or m.dim() != 2 or m.shape[1] != L.width:
                got = f"shape {tuple(m.shape)}" if isinstance(m, Tensor) else type(m).__name__
                raise ConfigError(f"masks[{k}] must be a (K, {L.width}) tensor: K variants, one column per {L.kind} "
                                  f"of layer {k}; got {got}")
        ks = {m.shape[0] for m in masks.values()}
        if len(ks) > 1:
            raise ConfigError(f"all masks need the same number of variants K (their first dimension), got {sorted(ks)}")
        kvar = ks.pop() if ks else None
        fanned = False
        rec: dict[int, Tensor] = {}
        p = next(self.model.parameters(), None)
        if p is not None and x.is_floating_point() and x.dtype != p.dtype:  # task data is float32; a float64 net
            x = x.to(p.dtype)
        h = self._prelude(x)
        n = x.shape[0]
        for st in self._stages:
            z = st.pre(h)
            m = masks.get(st.layer.index)
            if m is not None:
                zk = z.view(kvar, n, *z.shape[1:]) if fanned else z.unsqueeze(0)
                z = _masked(zk, m, st.layer, bool(torch.isfinite(zk).all())).reshape(kvar * n, *z.shape[1:])
                if not fanned:
                    if st.layer.skip:  # the residual stream is read by post(): fan it out too
                        h = h.unsqueeze(0).expand(kvar, *h.shape).reshape(kvar * n, *h.shape[1:])
                    fanned = True
            if record:
                rec[st.layer.index] = z
            h = st.post(h, z)
        out = self._head(h)
        if kvar is not None:
            out = out.view(kvar, n, out.shape[-1])
        return out, rec

    def activation_size(self, input_shape: tuple[int, ...]) -> int:
        """Floats per example of the largest hidden tensor (to size batches of masked passes)."""
        with torch.no_grad():
            p = next(iter(self.model.parameters()))
            _, rec = self.forward(torch.zeros(1, *input_shape, dtype=p.dtype), record=True)
        sizes = [v[0].numel() for v in rec.values()] + [math.prod(input_shape)]
        return max(sizes)


def view(model: nn.Module | NetView) -> NetView:
    return model if isinstance(model, NetView) else NetView(model)
