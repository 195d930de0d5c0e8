"""Which neurons and weight layers a network has: the architecture spec reduced to a `Plan`.

A plan is the part of an architecture a neural graph needs: the neuron count of every layer, and for every
weight layer (``Linear`` / ``Conv2d``) its parameter names, shape, how its inputs map onto the previous layer's
neurons, the activation after it and whether a residual skip wraps it. Everything else (pooling, ``Flatten``,
padding, stride) stays in the spec, from which :func:`metanet.nets.from_spec` rebuilds the module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from torch import nn

from metanet.errors import ArchError, GraphError
from metanet.nets import Arch, SUPPORTED_LAYERS, activation_code
from metanet.nets import spec as nets_spec
from metanet.nets.spec import _check_layer, check_sequential_keys, module_names

__all__ = ["WeightLayer", "Plan", "plan", "canonical_key", "spec_of", "SUPPORTED"]

SUPPORTED = (
    "metanet.nets.MLP (with or without residual skips), metanet.nets.CNN, or a plain nn.Sequential of "
    + SUPPORTED_LAYERS
)


@dataclass(frozen=True)
class WeightLayer:
    """One ``Linear`` or ``Conv2d`` layer: it reads neuron layer ``index - 1`` and writes neuron layer ``index``.

    Attributes:
        index: 1-based weight layer number (= the neuron layer it produces).
        type: ``"linear"`` or ``"conv2d"``.
        module: the layer's module path in the network (``"layers.0"``, ``"3"``), used in messages.
        weight: parameter name of the weight; ``bias``: of the bias, or None.
        n_in, n_out: neurons read / written (features or channels).
        kernel: ``(kh, kw)`` values per edge: the conv kernel; ``(1, 1)`` for a linear layer; ``(1, S)`` for a
            linear layer reading a ``Flatten`` of S positions per channel of a conv output.
        act: name of the first activation applied after this layer (``"identity"`` if none).
        residual: the layer's output is added to its input (``h + act(W h + b)``).
    """

    index: int
    type: str
    module: str
    weight: str
    bias: str | None
    n_in: int
    n_out: int
    kernel: tuple[int, int]
    act: str
    residual: bool = False

    @property
    def kk(self) -> int:
        """Real values per edge (``kh * kw``)."""
        return self.kernel[0] * self.kernel[1]

    @property
    def weight_shape(self) -> tuple[int, ...]:
        """Shape of the layer's weight tensor (``(out, in, kh, kw)`` for a convolution, else ``(out, in)``)."""
        if self.type == "conv2d":
            return (self.n_out, self.n_in, *self.kernel)
        return (self.n_out, self.n_in * self.kk)

    def describe(self) -> str:
        """A human-readable name of the layer (module name, type, sizes) for messages."""
        if self.type == "conv2d":
            return f"layer {self.module} (Conv2d {self.n_in}->{self.n_out}, kernel {self.kernel[0]}x{self.kernel[1]})"
        return f"layer {self.module} (Linear {self.n_in * self.kk}->{self.n_out})"


@dataclass(frozen=True, eq=False)
class Plan:
    """Neuron layers and weight layers of one architecture (see the module docstring)."""

    spec: dict
    key: str
    sizes: tuple[int, ...]
    input_act: str
    layers: tuple[WeightLayer, ...]

    @property
    def edge_dim(self) -> int:
        """Smallest edge width that holds every layer's values."""
        return max(layer.kk for layer in self.layers)

    def act_codes(self) -> tuple[int, ...]:
        return (activation_code(self.input_act), *(activation_code(layer.act) for layer in self.layers))


def canonical_key(spec: dict) -> str:
    """The canonical JSON text of a spec: graphs store it as ``arch`` and layouts are cached by it."""
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


def spec_of(module: nn.Module) -> dict:
    """:func:`metanet.nets.spec` with :class:`GraphError` for unsupported modules."""
    try:
        return nets_spec(module)
    except ArchError as e:
        raise GraphError(f"cannot encode this network as a neural graph: {' '.join(str(e).split())}") from None


def plan(spec: dict) -> Plan:
    """Reduce an architecture spec (:func:`metanet.nets.spec` format) to a :class:`Plan`.

    Raises:
        GraphError: the spec is malformed or describes a network a neural graph cannot hold (unsupported layer,
            mismatched shapes between consecutive layers); the message names the layer.
    """
    if not isinstance(spec, dict) or "family" not in spec:
        raise GraphError(f"an architecture spec must be a dict with a 'family' key, got {spec!r:.200}")
    family = spec["family"]
    if family == "sequential":
        sizes, input_act, layers = _sequential(spec)
        spec = _normal_sequential(spec)
    elif family in ("mlp", "cnn"):
        try:
            arch = Arch.from_dict(spec)
        except (ArchError, TypeError) as e:
            raise GraphError(f"invalid architecture in graph/spec: {e}") from None
        sizes, input_act, layers = _family(arch)
        spec = arch.to_dict()  # defaults filled in: {"family": "mlp", "widths": [..]} is the module's arch too
    else:
        raise GraphError(f"unknown architecture family {family!r}; valid: mlp, cnn, sequential")
    # the key of the spec as metanet.nets.spec writes it: one network, one key (graphs are grouped and layouts
    # cached by it)
    return Plan(spec=spec, key=canonical_key(spec), sizes=sizes, input_act=input_act, layers=tuple(layers))


def _normal_sequential(spec: dict) -> dict:
    """A valid sequential spec as :func:`metanet.nets.spec` writes it: no ``"module"`` entry naming a layer by its
    own index (the default), a dropout ``p`` as a float."""
    layers = []
    for i, d in enumerate(spec["layers"]):
        d = {k: v for k, v in d.items() if not (k == "module" and v == str(i))}
        if d["type"] == "dropout":
            d["p"] = float(d["p"])
        layers.append(d)
    return {**spec, "layers": layers}


def _family(arch: Arch) -> tuple[tuple[int, ...], str, list[WeightLayer]]:
    n = arch.num_layers
    skips = set(arch.skip_layers())
    layers = []
    for i in range(n):
        last = i == n - 1
        conv = arch.family == "cnn" and not last
        layers.append(
            WeightLayer(
                index=i + 1,
                type="conv2d" if conv else "linear",
                module=f"layers.{i}",
                weight=f"layers.{i}.weight",
                bias=f"layers.{i}.bias" if arch.bias else None,
                n_in=arch.widths[i],
                n_out=arch.widths[i + 1],
                kernel=(arch.kernel, arch.kernel) if conv else (1, 1),
                act="identity" if last else arch.activation,
                residual=i in skips,
            )
        )
    # CNN: global average pooling joins the last conv's channels to the classifier one-to-one
    return tuple(arch.widths), "identity", layers


def _name(i: int, d: dict) -> str:
    t = d.get("type")
    if t == "linear":
        return f"layer {i} (Linear {d.get('in')}->{d.get('out')})"
    if t == "conv2d":
        return f"layer {i} (Conv2d {d.get('in')}->{d.get('out')})"
    names = {"act": d.get("name"), "flatten": "Flatten", "maxpool2d": "MaxPool2d", "avgpool2d": "AvgPool2d",
             "gap": "AdaptiveAvgPool2d(1)", "dropout": "Dropout"}
    return f"layer {i} ({names.get(t, t)})"


def _int(d: dict, k: str, where: str) -> int:
    v = d.get(k)
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise GraphError(f"{where}: '{k}' must be a positive integer, got {v!r}")
    return v


def _sequential(spec: dict) -> tuple[tuple[int, ...], str, list[WeightLayer]]:
    """Walk an ``nn.Sequential`` spec, tracking whether the running tensor is an image or a vector."""
    items = spec.get("layers")
    if not isinstance(items, list):
        raise GraphError("a sequential spec needs a 'layers' list")
    try:
        check_sequential_keys(spec)  # else the same network would have two arch keys
        names = module_names(items)  # parameter names are '{name}.weight' / '{name}.bias'
    except ArchError as e:
        raise GraphError(str(e)) from None
    # state: "any" (network input, rank unknown), "image" (N, C, H, W) or "vector" (N, F)
    state = "any"
    width: int | None = None  # channels (image) or features (vector) produced by the last weight layer
    channels_flat: int | None = None  # a vector that is a Flatten of an image with this many channels
    flat_rows = False  # a Flatten after a Linear layer: that Linear read only its input's last axis
    flattened = False  # a Flatten met: the tensor is (N, F) from then on, and a later Flatten changes nothing
    spatial_one = False  # image known to be 1x1 (after global average pooling)
    last: str | None = None  # description of the last weight layer
    sizes: list[int] = []
    acts: list[str | None] = [None]  # first activation after each neuron layer (index 0: the input)
    layers: list[dict[str, Any]] = []
    for i, d in enumerate(items):
        if not isinstance(d, dict):
            raise GraphError(f"layer {i} of the sequential spec must be a dict, got {d!r:.100}")
        where = _name(i, d)
        t = d.get("type")
        if t == "act":
            name = d.get("name")
            try:
                activation_code(name)
            except ArchError as e:
                raise GraphError(f"{where}: {e}") from None
            if acts[-1] is None:
                acts[-1] = name
        elif t in ("maxpool2d", "avgpool2d", "gap"):
            if state == "vector":
                raise GraphError(
                    f"{where} needs a 4-D image input (N, C, H, W) but follows {last or 'a Flatten'}, which "
                    "produces a vector; pooling is supported only between convolutions / before the classifier"
                )
            state, spatial_one = "image", t == "gap"
        elif t == "dropout":  # an identity at inference: the graph is the network without it
            pass
        elif t == "flatten":
            if state == "image" and width is not None:
                channels_flat = width
            flat_rows = flat_rows or (state == "vector" and width is not None and not flattened)
            state, flattened = "vector", True
        elif t == "linear":
            n_in, n_out = _int(d, "in", where), _int(d, "out", where)
            if state == "image":
                raise GraphError(
                    f"{where} follows {last or 'a pooling layer'}, which produces a 4-D image; insert nn.Flatten() "
                    "(after nn.AdaptiveAvgPool2d(1) for global average pooling) before the Linear layer"
                )
            kernel = (1, 1)
            if channels_flat is not None:
                if n_in % channels_flat:
                    raise GraphError(
                        f"{where} has {n_in} input features, which is not a multiple of the {channels_flat} channels "
                        f"that {last} produces; the Linear layer must read Flatten(C x H x W) of them"
                    )
                positions = n_in // channels_flat
                if spatial_one and positions != 1:
                    raise GraphError(
                        f"{where} has {n_in} input features but follows global average pooling of {channels_flat} "
                        f"channels; it must have in_features={channels_flat}"
                    )
                n_in, kernel = channels_flat, (1, positions)
            elif width is not None and n_in != width:
                # Linear(8, 16) on (N, 1, 8, 8) images gives 16 features per row, flattened to 128: a sum over rows
                # that a graph of one neuron per feature cannot hold; "produces 16" alone contradicted the 128
                rows = (f"; {last} comes before nn.Flatten(), so it reads only its input's last axis and the "
                        f"Flatten joins its {width} outputs at each of {n_in // width} positions, which a neural "
                        "graph does not encode: put nn.Flatten() before the first Linear layer"
                        if flat_rows and n_in % width == 0 else "")
                raise GraphError(f"{where} expects {n_in} input features but {last} produces {width}{rows}")
            layers.append({"i": names[i], "type": "linear", "n_in": n_in, "n_out": n_out, "kernel": kernel,
                           "bias": bool(d.get("bias", True))})
            if not sizes:
                sizes.append(n_in)
            state, width, channels_flat, spatial_one, last = "vector", n_out, None, False, where
            flat_rows = False
            sizes.append(n_out)
            acts.append(None)
        elif t == "conv2d":
            n_in, n_out = _int(d, "in", where), _int(d, "out", where)
            if state == "vector":
                raise GraphError(
                    f"{where} needs a 4-D image input but follows {last or 'a Flatten'}, which produces a vector"
                )
            if width is not None and state == "image" and n_in != width:
                raise GraphError(f"{where} expects {n_in} input channels but {last} produces {width}")
            kernel = d.get("kernel")
            if not (isinstance(kernel, (list, tuple)) and len(kernel) == 2 and all(isinstance(k, int) and k >= 1
                                                                                    for k in kernel)):
                raise GraphError(f"{where}: 'kernel' must be a pair of positive integers, got {kernel!r}")
            layers.append({"i": names[i], "type": "conv2d", "n_in": n_in, "n_out": n_out, "kernel": tuple(kernel),
                           "bias": bool(d.get("bias", True))})
            if not sizes:
                sizes.append(n_in)
            state, width, channels_flat, spatial_one, last = "image", n_out, None, False, where
            sizes.append(n_out)
            acts.append(None)
        else:
            raise GraphError(
                f"layer {i} of the sequential spec has unknown type {t!r}; supported layers: {SUPPORTED_LAYERS}"
            )
        try:  # the sizes and flags from_spec needs: a graph of a spec it cannot build would fail only when decoded
            _check_layer(i, d)
        except ArchError as e:
            raise GraphError(str(e)) from None
    if not layers:
        raise GraphError(f"the network has no Linear or Conv2d layer, so it has no weights to encode; supported: {SUPPORTED}")
    out = [
        WeightLayer(
            index=j + 1, type=ld["type"], module=ld["i"], weight=f"{ld['i']}.weight",
            bias=f"{ld['i']}.bias" if ld["bias"] else None, n_in=ld["n_in"], n_out=ld["n_out"],
            kernel=ld["kernel"], act=acts[j + 1] or "identity",
        )
        for j, ld in enumerate(layers)
    ]
    return tuple(sizes), acts[0] or "identity", out
