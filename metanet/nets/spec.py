"""A JSON description of any network metanet supports, and the network rebuilt from it.

``spec(module)`` gives a plain dict that :func:`from_spec` turns back into an equivalent, freshly built module
with the same parameter names; the weights travel separately (a state dict). Two kinds of network:

- metanet's families: ``{"family": "mlp" | "cnn", ...}`` (an :class:`~metanet.nets.Arch` as a dict);
- a plain ``nn.Sequential``: ``{"family": "sequential", "layers": [...]}``, one dict per layer, e.g.
  ``{"type": "linear", "in": 784, "out": 64, "bias": true}``, ``{"type": "act", "name": "relu"}``,
  ``{"type": "conv2d", "in": 1, "out": 8, "kernel": [3, 3], "stride": [1, 1], "padding": [1, 1], "bias": true}``,
  ``{"type": "flatten"}``, ``{"type": "maxpool2d" | "avgpool2d", ...}``, ``{"type": "gap"}`` (global average
  pooling, ``nn.AdaptiveAvgPool2d(1)``), ``{"type": "dropout", "p": 0.2}`` (``nn.Dropout``, kept so the rebuilt
  network trains like the original; an identity at inference, so it adds no neurons or weights to a graph). A layer whose module name is not its index (``nn.Sequential(OrderedDict(...))``)
  also has ``"module": NAME``, so the parameter names (``NAME.weight``) survive.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torch
from torch import nn

from metanet._state import forked_rng
from metanet.errors import ArchError
from metanet.nets.activations import ACTIVATIONS, activation, activation_name
from metanet.nets.arch import Arch
from metanet.nets.models import CNN, MLP, build

__all__ = ["spec", "from_spec", "module_names", "check_sequential_keys", "SUPPORTED_LAYERS", "wrapper_problem",
           "is_wrapper", "weights_problem", "family_problem"]

SUPPORTED_LAYERS = (
    "Linear, Conv2d (groups=1, dilation=1, zero padding), Flatten, MaxPool2d, AvgPool2d, "
    "AdaptiveAvgPool2d(1) (global average pooling), Dropout, and the activations "
    + ", ".join(cls.__name__ for cls in ACTIVATIONS.values())
)


def _pair(v: Any) -> list[int] | str:
    if isinstance(v, str):
        return v
    return [int(v), int(v)] if isinstance(v, int) else [int(x) for x in v]


def _layer_spec(i: int, m: nn.Module) -> dict[str, Any]:
    name = activation_name(m)
    if name is not None:
        return {"type": "act", "name": name}
    if type(m) in ACTIVATIONS.values():
        raise ArchError(
            f"layer {i} ({m}) is not supported: only the default configuration of {type(m).__name__} is, "
            f"as the activation is stored by name alone; supported layers: {SUPPORTED_LAYERS}"
        )
    if getattr(m, "cls_to_become", None) in (nn.Linear, nn.Conv2d):  # an uninitialised LazyLinear / LazyConv2d
        raise ArchError(f"layer {i} ({type(m).__name__}) is not initialised yet: run one forward pass on an example "
                        f"input first (it then becomes a {m.cls_to_become.__name__}, which is supported)")
    if type(m) is nn.Linear:
        return {"type": "linear", "in": m.in_features, "out": m.out_features, "bias": m.bias is not None}
    if type(m) is nn.Conv2d:
        bad = [f"groups={m.groups}"] if m.groups != 1 else []
        bad += [f"dilation={tuple(m.dilation)}"] if tuple(m.dilation) != (1, 1) else []
        bad += [f"padding_mode={m.padding_mode!r}"] if m.padding_mode != "zeros" else []
        if bad:
            raise ArchError(
                f"layer {i} ({m}) uses {', '.join(bad)}, which is not supported; supported layers: {SUPPORTED_LAYERS}"
            )
        return {
            "type": "conv2d", "in": m.in_channels, "out": m.out_channels, "kernel": _pair(m.kernel_size),
            "stride": _pair(m.stride), "padding": _pair(m.padding), "bias": m.bias is not None,
        }
    if type(m) is nn.Flatten:
        if m.start_dim != 1 or m.end_dim != -1:
            raise ArchError(f"layer {i} ({m}): only Flatten(start_dim=1, end_dim=-1) is supported")
        return {"type": "flatten"}
    if type(m) is nn.MaxPool2d:
        if m.return_indices:
            raise ArchError(f"layer {i} ({m}): MaxPool2d(return_indices=True) is not supported")
        return {
            "type": "maxpool2d", "kernel": _pair(m.kernel_size), "stride": _pair(m.stride),
            "padding": _pair(m.padding), "dilation": _pair(m.dilation), "ceil_mode": bool(m.ceil_mode),
        }
    if type(m) is nn.AvgPool2d:
        return {
            "type": "avgpool2d", "kernel": _pair(m.kernel_size), "stride": _pair(m.stride),
            "padding": _pair(m.padding), "ceil_mode": bool(m.ceil_mode),
            "count_include_pad": bool(m.count_include_pad), "divisor_override": m.divisor_override,
        }
    if type(m) is nn.AdaptiveAvgPool2d and m.output_size in (1, (1, 1), [1, 1]):
        return {"type": "gap"}
    if type(m) is nn.Dropout:  # the everyday MLP's regulariser: an identity at inference
        return {"type": "dropout", "p": float(m.p)}
    raise ArchError(f"layer {i} ({type(m).__name__}: {m}) is not supported; supported layers: {SUPPORTED_LAYERS}")


_PARALLEL = (nn.DataParallel, nn.parallel.DistributedDataParallel)


def _is_compiled(module: object) -> bool:
    """A ``torch.compile`` wrapper, told by its class name and the module it holds (importing ``torch._dynamo`` for
    its class costs seconds); a class of one's own that is only named so is none."""
    return type(module).__name__ == "OptimizedModule" and isinstance(getattr(module, "_orig_mod", None), nn.Module)


def _is_exported(module: object) -> bool:
    """A ``torch.export`` program's module (``ExportedProgram.module()``), told by a base class's name (no import of
    ``torch.export``): its ``eval()`` raises NotImplementedError, which verify reported as inputs it did not accept."""
    return any(c.__name__ == "_StatefulGraphModule" and c.__module__.startswith("torch.export")
               for c in type(module).__mro__)


def is_wrapper(module: object) -> bool:
    """Whether ``module`` wraps the network it runs: a TorchScript module, a ``torch.compile``-d module, a
    ``torch.export`` program's module or an ``nn.DataParallel`` / ``DistributedDataParallel`` one
    (:func:`wrapper_problem` says what to pass instead)."""
    return (isinstance(module, (torch.jit.ScriptModule, *_PARALLEL)) or _is_compiled(module)
            or _is_exported(module))


def wrapper_problem(module: nn.Module) -> str | None:
    """Why metanet cannot see ``module``'s layers and weights as they are, when it is wrapped: a TorchScript module,
    a ``torch.compile``-d, ``torch.export``-ed or ``nn.DataParallel`` module, or one with
    ``torch.nn.utils.parametrize`` parametrizations or the older hook-based ``weight_norm`` / ``spectral_norm`` or
    ``torch.nn.utils.prune`` (None otherwise)."""
    if isinstance(module, torch.jit.ScriptModule):
        return (f"{type(module).__name__} is a TorchScript module (torch.jit.script / trace); metanet reads Python "
                "modules: pass the nn.Module it was scripted from")
    if _is_compiled(module):
        return ("OptimizedModule is a torch.compile wrapper; pass the module you compiled (compiled._orig_mod): it "
                "holds the same weights")
    if _is_exported(module):
        return ("it is a torch.export program's module (ExportedProgram.module()), which cannot switch to eval mode "
                "and runs only the input shapes it was exported for; pass the nn.Module you exported: it holds the "
                "same weights")
    if isinstance(module, _PARALLEL):  # verify met a raw RuntimeError
        return (f"{type(module).__name__} is a wrapper for parallel training; pass the network it wraps "
                "(wrapped.module): it holds the same weights")
    # torch.ao.quantization (quantize_dynamic, convert): a layer's weights are packed int8 tensors, not parameters;
    # an MLP's arch still named float layers, so save / inspect / the edits met raw AttributeErrors and KeyErrors
    # ".quantized" anywhere: fused layers are torch.ao.nn.intrinsic.quantized (a dynamic LinearReLU was not listed)
    quantized = [n or type(module).__name__ for n, m in module.named_modules()
                 if type(m).__module__.startswith("torch.") and ".quantized" in type(m).__module__
                 and not n.endswith("_packed_params")]
    if quantized:
        # packed int8, or float16 (quantize_dynamic(..., dtype=torch.float16)): "integers" was not always true
        return (f"its layers {quantized[:4]} are quantized (torch.ao.quantization, e.g. quantize_dynamic): their "
                "weights are packed (int8 or float16), while metanet reads and writes float parameters; pass the float "
                "network you quantized (metanet.edit.precision(model, '*=int8', task) rounds its weights to int8)")
    # torch.nn.utils.weight_norm / spectral_norm (not .parametrizations) and torch.nn.utils.prune: a forward
    # pre-hook recomputes `weight` from other tensors at every call, so an edit of `weight` was lost and the layer
    # had no `weight` parameter to encode (inspect and the edits: a raw KeyError)
    hooked = [(f"{n}.{t}" if n else t, k) for n, m in module.named_modules() for h in m._forward_pre_hooks.values()
              for t, k in [_recomputing_hook(h)] if t]
    if hooked:
        undo = " / ".join(sorted({f"torch.nn.utils.prune.remove(layer, {n.rsplit('.', 1)[-1]!r})" if k == "prune"
                                  else f"torch.nn.utils.remove_{k}(layer)" for n, k in hooked}))
        return (f"its weights {[f'{n} ({k})' for n, k in hooked][:4]} are recomputed at every call by "
                "torch.nn.utils.weight_norm / spectral_norm / prune from other tensors, while metanet reads and "
                f"writes plain parameters; pass a copy with them removed ({undo} keeps the weight it computes)")
    from torch.nn.utils import parametrize

    names = [f"{n}.{t}" if n else t for n, m in module.named_modules() if parametrize.is_parametrized(m)
             for t in m.parametrizations]
    if names:
        return (f"its weights {names[:4]} are computed by torch.nn.utils.parametrize, while metanet reads and "
                "writes plain parameters; pass a copy with the parametrizations removed "
                "(parametrize.remove_parametrizations(layer, name) keeps the values they compute)")
    return None


def _recomputing_hook(hook: object) -> tuple[str, str]:
    """(tensor name, kind) of a forward pre-hook that recomputes a tensor at every call, or ("", "")."""
    from torch.nn.utils.prune import BasePruningMethod
    from torch.nn.utils.spectral_norm import SpectralNorm
    from torch.nn.utils.weight_norm import WeightNorm

    if isinstance(hook, WeightNorm):
        return hook.name, "weight_norm"
    if isinstance(hook, SpectralNorm):
        return hook.name, "spectral_norm"
    if isinstance(hook, BasePruningMethod):  # one method, or a PruningContainer of several on the same tensor
        return hook._tensor_name, "prune"
    return "", ""


def weights_problem(module: nn.Module) -> str | None:
    """Why ``module``'s weights cannot be used as values (None if they can): a TorchScript or ``nn.DataParallel``
    module (metanet copies and stacks Python modules), uninitialised lazy parameters or tensors on the ``meta``
    device (shapes without values)."""
    if isinstance(module, (torch.jit.ScriptModule, *_PARALLEL)):  # not is_wrapper: spec, to_graph and check_weights
        # name a torch.compile wrapper after these checks (its tensors are its module's: a meta one is named as such)
        return wrapper_problem(module)  # DataParallel: torch.func's stateless call refuses it (a raw RuntimeError)
    tensors = (*module.named_parameters(), *module.named_buffers())
    lazy = [n for n, t in tensors if isinstance(t, nn.parameter.UninitializedTensorMixin)]
    if lazy:  # else a raw "Can't access the shape of an uninitialized parameter" from torch
        return (f"its tensors {lazy[:4]} are not initialised yet (a lazy layer such as nn.LazyLinear); run one "
                "forward pass on an example input first: it sets their shapes and values")
    meta = [n for n, t in tensors if t.is_meta]
    if meta:
        return (f"its tensors {meta[:4]} are on the 'meta' device: shapes without values (a model built under "
                "torch.device('meta')); give it real weights first, e.g. model.to_empty(device='cpu') then "
                "model.load_state_dict(...), or metanet.load(path)")
    # a weight made sparse (t.to_sparse()): save was a raw "unsupported memory format option Contiguous"
    sparse = [n for n, t in tensors if t.layout != torch.strided]
    if sparse:
        return (f"its tensors {sparse[:4]} are sparse ({next(t.layout for n, t in tensors if n == sparse[0])}); "
                "metanet reads dense weights: make them dense first (t.to_dense()), their zeros are kept as weights")
    return None


def family_problem(module: MLP | CNN) -> str | None:
    """Why a metanet ``MLP`` / ``CNN`` is not the network its ``arch`` describes (None when it is): a replaced
    activation (``m.act = nn.Tanh()``), or a convolution replaced by one of another stride, padding, dilation or
    padding mode (``m.layers[0] = nn.Conv2d(1, 8, 3, stride=1)`` in a stride-2 CNN). No parameter's shape shows
    them, so :func:`spec` (save / load) and the neural graph (``to_graph`` / ``from_graph``) described the arch's
    network, another function."""
    arch = module.arch
    fix = "build a network of the architecture you want (metanet.nets.build) and load the weights into it"
    if activation_name(module.act) != arch.activation:
        return (f"this {type(module).__name__}'s activation {module.act} is not its architecture's "
                f"{arch.activation!r} ({arch}); {fix}")
    if arch.family != "cnn" or not isinstance(getattr(module, "layers", None), nn.ModuleList):
        return None
    k, s = arch.kernel, arch.stride
    want = {"stride": (s, s), "padding": (k // 2, k // 2), "dilation": (1, 1), "padding_mode": "zeros"}
    for i, m in enumerate(module.layers):  # not a slice: that builds a new ModuleList (~100 us a call)
        if i < arch.num_layers - 1 and type(m) is nn.Conv2d:  # other types or shapes: named by the parameter checks
            bad = [f"{key}={getattr(m, key)!r}" for key, v in want.items() if getattr(m, key) != v]
            if bad:
                return (f"this CNN's layer layers.{i} ({m}) has {', '.join(bad)}, which its architecture {arch} does "
                        f"not have (stride {s}, padding {k // 2}); {fix}")
    return None


def spec(module: nn.Module) -> dict[str, Any]:
    """The JSON-able description of ``module`` (see the module docstring).

    Raises:
        ArchError: ``module`` is neither a metanet family nor an ``nn.Sequential`` of supported layers (the
            message names the offending layer), or it is wrapped (TorchScript, ``torch.compile``,
            ``nn.DataParallel``, ``torch.nn.utils.parametrize``, the older ``weight_norm`` / ``spectral_norm``,
            ``torch.nn.utils.prune``: the message says what to pass instead).
    """
    wrapped = wrapper_problem(module) if isinstance(module, nn.Module) else None
    if wrapped:
        raise ArchError(f"unsupported module: {wrapped}")
    if isinstance(module, (MLP, CNN)):
        problem = family_problem(module)
        if problem:
            raise ArchError(problem)
        return module.arch.to_dict()
    if type(module) is nn.Sequential:
        layers = []
        for i, (name, m) in enumerate(module._modules.items()):
            d = _layer_spec(i, m)
            if name != str(i):  # nn.Sequential(OrderedDict(...)): the names are the state dict's keys
                d["module"] = name
            layers.append(d)
        return {"family": "sequential", "layers": layers}
    raise ArchError(
        f"unsupported module {type(module).__name__}; supported: metanet.nets.MLP, metanet.nets.CNN, or a plain "
        f"nn.Sequential of {SUPPORTED_LAYERS}"
    )


#: the keys :func:`spec` writes for each layer type (besides ``type`` and the optional ``module``)
_LAYER_KEYS = {
    "act": ("name",),
    "linear": ("in", "out", "bias"),
    "conv2d": ("in", "out", "kernel", "stride", "padding", "bias"),
    "flatten": (),
    "maxpool2d": ("kernel", "stride", "padding", "dilation", "ceil_mode"),
    "avgpool2d": ("kernel", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"),
    "gap": (),
    "dropout": ("p",),
}
_SPEC_KEYS = ("family", "layers")


def check_sequential_keys(d: dict[str, Any]) -> None:
    """ArchError if a sequential spec has a key :func:`spec` never writes: it would not change the network, yet the
    spec's canonical JSON (a graph's ``arch``, the layout cache key) would differ, so one network would count as two
    architectures (as :meth:`Arch.from_dict` refuses unknown keys too)."""
    unknown = sorted(set(d) - set(_SPEC_KEYS), key=str)
    if unknown:
        raise ArchError(f"unknown keys {unknown} in the sequential spec; valid keys: {list(_SPEC_KEYS)}")


def _check_layer(i: int, d: dict[str, Any]) -> None:
    """ArchError unless the keys, sizes and flags of layer ``d`` are what :func:`spec` writes: torch accepts a kernel
    of 0, a truthy string as ``ceil_mode`` or ``p=True`` when the module is built and fails (or silently computes
    something else) only at the first forward pass, so a corrupt file header would load and then break; an unknown
    key (a typo, a note) would change the spec's canonical JSON but not the network (see
    :func:`check_sequential_keys`)."""
    known = _LAYER_KEYS.get(d.get("type"))  # an unknown type is reported by the caller, with the valid types
    if known is not None:
        unknown = sorted(set(d) - {"type", "module", *known}, key=str)
        if unknown:
            raise ArchError(f"layer {i} of the spec ({d}) has unknown keys {unknown}; valid keys for a "
                            f"{d['type']!r} layer: {['type', *known, 'module']}")

    def bad(key: str, want: str) -> ArchError:
        return ArchError(f"layer {i} of the spec ({d}) is malformed: {key!r} must be {want}, got {d.get(key)!r}")

    def whole(key: str, least: int, v: Any = None) -> int:
        v = d.get(key) if v is None else v
        if isinstance(v, bool) or not isinstance(v, int) or v < least:
            raise bad(key, f"a whole number >= {least}")
        return v

    def pair(key: str, least: int) -> list[int]:
        v = d.get(key)
        # one message for the list and its items: "must be a whole number, got [0, 0]" would contradict itself
        if (not isinstance(v, list) or len(v) != 2
                or any(isinstance(x, bool) or not isinstance(x, int) or x < least for x in v)):
            raise bad(key, f"a list of two whole numbers >= {least}")
        return v

    def flag(key: str) -> None:
        if not isinstance(d.get(key), bool):
            raise bad(key, "true or false")

    t = d.get("type")
    if t == "linear":
        whole("in", 0), whole("out", 0), flag("bias")
    elif t == "conv2d":
        whole("in", 0), whole("out", 0), pair("kernel", 1), pair("stride", 1), flag("bias")
        if d.get("padding") not in ("same", "valid"):
            pair("padding", 0)
    elif t in ("maxpool2d", "avgpool2d"):
        kernel, _, pad = pair("kernel", 1), pair("stride", 1), pair("padding", 0)
        flag("ceil_mode")
        dil = pair("dilation", 1) if t == "maxpool2d" else [1, 1]
        if t == "avgpool2d":
            flag("count_include_pad")
            if "divisor_override" not in d:  # spec writes it, null for none; from_spec needs it
                raise ArchError(f"layer {i} of the spec ({d}) is malformed: 'divisor_override' is missing; it must be "
                                "a whole number >= 1 or null")
            if d.get("divisor_override") is not None:
                whole("divisor_override", 1)
        if any(p > ((k - 1) * r + 1) // 2 for p, k, r in zip(pad, kernel, dil)):  # torch's rule, checked at forward
            raise bad("padding", "at most half of the (effective) kernel size")
    elif t == "dropout":
        p = d.get("p")
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise bad("p", "a probability in [0, 1]")


def _build_layer(i: int, d: dict[str, Any]) -> nn.Module:
    t = d.get("type")
    _check_layer(i, d)
    try:
        if t == "act":
            return activation(d["name"])
        if t == "linear":
            return nn.Linear(d["in"], d["out"], bias=d["bias"])
        if t == "conv2d":
            return nn.Conv2d(d["in"], d["out"], tuple(d["kernel"]), stride=tuple(d["stride"]),
                             padding=d["padding"] if isinstance(d["padding"], str) else tuple(d["padding"]),
                             bias=d["bias"])
        if t == "flatten":
            return nn.Flatten()
        if t == "maxpool2d":
            return nn.MaxPool2d(tuple(d["kernel"]), tuple(d["stride"]), tuple(d["padding"]),
                                tuple(d["dilation"]), ceil_mode=d["ceil_mode"])
        if t == "avgpool2d":
            return nn.AvgPool2d(tuple(d["kernel"]), tuple(d["stride"]), tuple(d["padding"]), ceil_mode=d["ceil_mode"],
                                count_include_pad=d["count_include_pad"], divisor_override=d["divisor_override"])
        if t == "gap":
            return nn.AdaptiveAvgPool2d(1)
        if t == "dropout":
            return nn.Dropout(d["p"])
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        raise ArchError(f"layer {i} of the spec ({d}) is malformed: {e}") from None
    raise ArchError(
        f"layer {i} of the spec has unknown type {t!r}; valid: act, linear, conv2d, flatten, maxpool2d, avgpool2d, gap, "
        "dropout"
    )


def module_names(layers: list[Any]) -> list[str]:
    """The module name of every layer of a sequential spec: its ``"module"`` entry, or its index by default.

    Raises:
        ArchError: a name that is not a non-empty string without dots, or one name used twice.
    """
    names = []
    for i, d in enumerate(layers):
        name = d.get("module", str(i)) if isinstance(d, dict) else str(i)
        if not isinstance(name, str) or not name or "." in name:
            raise ArchError(f"layer {i} of the spec has module name {name!r}; it must be a non-empty string without '.'")
        names.append(name)
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            raise ArchError(f"layer {i} of the spec has module name {name!r}, which an earlier layer already has")
        seen.add(name)
    return names


def from_spec(d: dict[str, Any]) -> nn.Module:
    """Build the network ``d`` describes (weights freshly initialised from seed 0; load a state dict next)."""
    if not isinstance(d, dict) or "family" not in d:
        raise ArchError(f"an architecture spec must be a dict with a 'family' key, got {d!r:.200}")
    if d["family"] == "sequential":
        layers = d.get("layers")
        if not isinstance(layers, list):
            raise ArchError("a sequential spec needs a 'layers' list")
        check_sequential_keys(d)
        names = module_names(layers)
        with forked_rng():
            torch.manual_seed(0)
            modules = [_build_layer(i, ld if isinstance(ld, dict) else {}) for i, ld in enumerate(layers)]
        try:
            return nn.Sequential(OrderedDict(zip(names, modules)))
        except KeyError as e:  # a name nn.Module reserves ('forward', 'training', ...)
            raise ArchError(f"a module name of the spec is not allowed: {e}") from None
    return build(Arch.from_dict(d), seed=0)
