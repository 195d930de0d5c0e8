"""`Arch`: a metanet architecture as plain data.

An architecture is a short string, a dict or YAML mapping, or this frozen dataclass; all three round-trip::

    mlp:784-64-10:relu            # Flatten, Linear(784,64), ReLU, Linear(64,10)
    mlp:784-64-64-10:tanh:skip    # residual skip around the 64->64 hidden layer
    mlp:64-32-10:gelu:nobias      # no bias vectors
    cnn:1-16-16-10:relu:k3:s2     # Conv(1,16,3,stride 2) act, Conv(16,16,...) act, global avg pool, Linear(16,10)

For an MLP ``widths`` is (input features, hidden widths..., classes); for a CNN it is (input channels,
conv channels..., classes).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Set
from dataclasses import dataclass
from typing import Any

from metanet.errors import ArchError, as_index, whole_number
from metanet.nets.activations import ACTIVATIONS

__all__ = ["Arch", "FAMILIES", "cnn_input_hint"]

FAMILIES = ("mlp", "cnn")
_MAX_SIZE = 2**31 - 1  # a width, kernel or stride (int32, as convolutions take them)
_MAX_NUMEL = 2**60  # values in one weight tensor: its size in bytes must fit torch's int64
_DIGITS = frozenset("0123456789")
_GRAMMAR = (
    "'mlp:IN-H1-...-OUT:ACT[:skip][:nobias]' or 'cnn:CH-C1-...-OUT:ACT[:kK][:sS][:nobias]', "
    "e.g. 'mlp:784-64-10:relu' or 'cnn:1-16-16-10:relu:k3:s2'"
)
# What a message quotes of user input: an index or header may hold 10,000 widths, or 10**5000 (whose str() is a
# ValueError past Python's 4,300-digit limit)
_QUOTED_ITEMS = 8
_QUOTED_DIGITS = 20
_QUOTED_CHARS = 100


def _capped(text: str) -> str:
    """``text`` for a message, cut after ``_QUOTED_CHARS`` characters."""
    return text if len(text) <= _QUOTED_CHARS else f"{text[:_QUOTED_CHARS]}... ({len(text)} characters)"


def _shown(value: Any) -> str:
    """``repr(value)`` for a message, capped: the first widths of a long sequence, digit counts for huge numbers."""
    if isinstance(value, (list, tuple)):
        items = [_shown(v) for v in value[:_QUOTED_ITEMS]]
        if len(value) > _QUOTED_ITEMS:
            items.append(f"... {len(value)} in all")
        elif len(value) == 1 and isinstance(value, tuple):
            items[0] += ","
        return ("(%s)" if isinstance(value, tuple) else "[%s]") % ", ".join(items)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**_QUOTED_DIGITS:
        digits = int(math.log10(abs(value))) + 1  # log10 takes any int; the float may be one off either way
        digits += (10**digits <= abs(value)) - (10 ** (digits - 1) > abs(value))  # 10**(digits-1) <= |value|
        return f"{'-' if value < 0 else ''}<{digits}-digit number>"
    if isinstance(value, str) and len(value) > _QUOTED_CHARS:  # counts the text's characters, not its repr's
        return f"{value[:_QUOTED_CHARS]!r}... ({len(value)} characters)"
    return _capped(repr(value))



@dataclass(frozen=True)
class Arch:
    """A network of one of metanet's families.

    Args:
        family: ``"mlp"`` or ``"cnn"``.
        widths: MLP: (input features, hidden..., classes). CNN: (input channels, conv channels..., classes).
        activation: one of :data:`~metanet.nets.ACTIVATIONS` (applied after every hidden layer).
        bias: whether every layer has a bias vector.
        skips: MLP only: a residual connection ``h + act(W h + b)`` around every hidden layer whose input and
            output widths are equal.
        kernel: CNN only: square kernel size (padding ``kernel // 2``).
        stride: CNN only: stride of every convolution.
    """

    family: str
    widths: tuple[int, ...]
    activation: str = "relu"
    bias: bool = True
    skips: bool = False
    kernel: int = 3
    stride: int = 2

    def __post_init__(self) -> None:
        try:
            if isinstance(self.widths, (Mapping, Set)):  # no order of its own: {10, 64, 784} iterates as 64, 784, 10
                raise TypeError
            widths = tuple(self.widths)
            if any(isinstance(w, bool) or int(w) != w for w in widths):
                raise ValueError
        except (TypeError, ValueError, OverflowError):
            raise ArchError(f"widths must be a sequence of whole numbers, got {_shown(self.widths)}") from None
        object.__setattr__(self, "widths", tuple(int(w) for w in widths))
        if self.family not in FAMILIES:
            raise ArchError(f"unknown architecture family {self.family!r}; valid: {', '.join(FAMILIES)}")
        if len(self.widths) < 2 or any(w < 1 for w in self.widths):
            raise ArchError(f"widths {_shown(self.widths)} must hold at least an input and an output size, all >= 1")
        if max(self.widths) > _MAX_SIZE:
            raise ArchError(f"widths {_shown(self.widths)} are too large: each must be at most {_MAX_SIZE}")
        # JSON headers and YAML are user input: wrong types are ArchErrors, not TypeErrors deep in torch
        for name in ("bias", "skips"):
            value = getattr(self, name)
            if isinstance(value, str) or value not in (True, False):
                raise ArchError(f"{name} must be true or false, got {value!r}")
            object.__setattr__(self, name, bool(value))
        for name in ("kernel", "stride"):
            # as_index: numpy and one-element torch integers as widths take them (torch.tensor(3) was refused)
            value = as_index(getattr(self, name))
            if value is None:
                raise ArchError(f"{name} must be a whole number >= 1, got {getattr(self, name)!r}")
            object.__setattr__(self, name, value)
        if not isinstance(self.family, str) or not isinstance(self.activation, str):
            bad = "family" if not isinstance(self.family, str) else "activation"
            raise ArchError(f"{bad} must be a string, got {getattr(self, bad)!r}")
        if self.activation not in ACTIVATIONS:
            raise ArchError(f"unknown activation {self.activation!r}; valid: {', '.join(ACTIVATIONS)}")
        if self.family == "cnn":
            if len(self.widths) < 3:
                raise ArchError(
                    f"a cnn needs at least one conv layer: widths {_shown(self.widths)} (channels..., classes)")
            if self.skips:
                raise ArchError("residual skips are supported for the mlp family only")
            if self.kernel < 1 or self.stride < 1:
                raise ArchError(f"kernel ({_shown(self.kernel)}) and stride ({_shown(self.stride)}) must be >= 1")
            if max(self.kernel, self.stride) > _MAX_SIZE:
                raise ArchError(f"kernel ({_shown(self.kernel)}) or stride ({_shown(self.stride)}) is too large: at "
                                f"most {_MAX_SIZE}")
        elif (self.kernel, self.stride) != (3, 2):
            # an mlp has no kernel or stride: a non-default value would be lost by str() and break the round trip
            raise ArchError(f"kernel and stride apply to the cnn family only, not to {self.family!r}")
        # a JSON header or YAML could name sizes no tensor can hold: fail here, not with a TypeError or
        # RuntimeError from torch when the network is built
        biggest = max(a * b * (self.kernel**2 if self.family == "cnn" and i < self.num_layers - 1 else 1)
                      for i, (a, b) in enumerate(zip(self.widths[:-1], self.widths[1:])))
        if biggest > _MAX_NUMEL:
            raise ArchError(f"{_capped(str(self))} is too large: a weight tensor would hold {biggest} values "
                            f"(at most {_MAX_NUMEL})")

    # --- views ---------------------------------------------------------------------------------
    @property
    def num_classes(self) -> int:
        """Number of outputs (the last width): the classes of the task it is made for."""
        return self.widths[-1]

    @property
    def in_size(self) -> int:
        """Input features (MLP) or input channels (CNN)."""
        return self.widths[0]

    @property
    def hidden(self) -> tuple[int, ...]:
        """The hidden widths (every width but the input and the output)."""
        return self.widths[1:-1]

    @property
    def num_layers(self) -> int:
        """Number of weight layers (Linear or Conv2d)."""
        return len(self.widths) - 1

    def skip_layers(self) -> tuple[int, ...]:
        """Indices of the weight layers wrapped in a residual skip (MLP hidden-to-hidden, equal widths)."""
        if not self.skips:
            return ()
        return tuple(i for i in range(1, self.num_layers - 1) if self.widths[i] == self.widths[i + 1])

    def num_parameters(self) -> int:
        """Number of parameters (weights, plus biases when ``bias``) of the network this describes."""
        if self.family == "mlp":
            w = sum(a * b for a, b in zip(self.widths[:-1], self.widths[1:]))
        else:
            k2 = self.kernel * self.kernel
            convs = self.widths[:-1]
            w = sum(a * b * k2 for a, b in zip(convs[:-1], convs[1:])) + convs[-1] * self.widths[-1]
        return w + (sum(self.widths[1:]) if self.bias else 0)

    def fits(self, input_shape: tuple[int, ...]) -> bool:
        """Whether a single example of ``input_shape`` (no batch dim) is valid input."""
        if self.family == "mlp":
            return math.prod(input_shape) == self.in_size
        return len(input_shape) == 3 and input_shape[0] == self.in_size

    # --- conversions ---------------------------------------------------------------------------
    def __str__(self) -> str:
        parts = [self.family, "-".join(map(str, self.widths)), self.activation]
        if self.family == "mlp" and self.skips:
            parts.append("skip")
        if self.family == "cnn":
            parts += [f"k{self.kernel}", f"s{self.stride}"]
        if not self.bias:
            parts.append("nobias")
        return ":".join(parts)

    @classmethod
    def parse(cls, text: str) -> "Arch":
        """Parse ``'mlp:784-64-10:relu'`` and friends (see the module docstring)."""
        if isinstance(text, Arch):
            return text
        if not isinstance(text, str):
            raise ArchError(f"an architecture string is expected, got {type(text).__name__}; form: {_GRAMMAR}")
        parts = [p.strip() for p in text.strip().lower().split(":")]
        if len(parts) < 2:
            raise ArchError(f"malformed architecture {_shown(text)}; expected {_GRAMMAR}")
        family, widths_s, *rest = parts
        # plain ASCII digits only: int() would also read '64_10' as 6410, '+64' and non-ASCII digits
        widths_l = [w.strip() for w in widths_s.split("-")]
        if not all(w and set(w) <= _DIGITS for w in widths_l):
            raise ArchError(f"malformed widths {_shown(widths_s)} in {_shown(text)}; expected numbers joined by '-'")
        # int() refuses over 4,300 digits (a raw ValueError), and any width of over 20 digits is too large anyway
        if any(len(w.lstrip("0")) > _QUOTED_DIGITS for w in widths_l):
            raise ArchError(f"widths {_shown(widths_s)} in {_shown(text)} are too large: each must be at most "
                            f"{_MAX_SIZE}")
        # leading zeros stripped: int() counts them towards its limit ('0' * 5000 + '1' was a raw ValueError)
        widths = tuple(int(w.lstrip("0") or "0") for w in widths_l)
        kw: dict[str, Any] = {}
        for opt in rest:
            if opt in ACTIVATIONS:
                key, value = "activation", opt
            elif opt == "skip":
                key, value = "skips", True
            elif opt == "nobias":
                key, value = "bias", False
            elif opt[:1] in ("k", "s") and len(opt) > 1 and set(opt[1:]) <= _DIGITS:
                key = "kernel" if opt[0] == "k" else "stride"
                if len(opt[1:].lstrip("0")) > _QUOTED_DIGITS:  # as for the widths: int() would raise
                    raise ArchError(f"{key} {_shown(opt[1:])} in {_shown(text)} is too large: at most {_MAX_SIZE}")
                value = int(opt[1:].lstrip("0") or "0")
            else:
                raise ArchError(
                    f"unknown option {_shown(opt)} in architecture {_shown(text)}; valid options: an activation "
                    f"({', '.join(ACTIVATIONS)}), 'skip', 'nobias', 'kK' (kernel), 'sS' (stride)"
                )
            if kw.get(key, value) != value:  # 'relu:tanh' is ambiguous: do not let the last one win silently
                raise ArchError(f"{key} given twice ({kw[key]!r} and {value!r}) in architecture {_shown(text)}")
            kw[key] = value
        given = [k for k in ("kernel", "stride") if k in kw]
        if family == "mlp" and given:  # 'mlp:...:k3' would pass the dataclass check (3 is its default) and be dropped
            raise ArchError(f"{' and '.join(given)} apply to the cnn family only, not to {family!r}: drop "
                            f"the 'kK' / 'sS' options from {_shown(text)}")
        return cls(family=family, widths=widths, **kw)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict (``widths`` a list); :meth:`from_dict` reads it back."""
        d = dataclasses.asdict(self)
        d["widths"] = list(self.widths)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Arch":
        """The Arch of a :meth:`to_dict` mapping.

        Raises:
            ArchError: not a mapping, an unknown key, ``family`` or ``widths`` missing, or values that are no valid
                architecture.
        """
        if not isinstance(d, dict):
            raise ArchError(f"an architecture mapping is expected, got {type(d).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ArchError(f"unknown architecture keys {sorted(unknown)}; valid keys: {sorted(known)}")
        if "family" not in d or "widths" not in d:
            raise ArchError("an architecture mapping needs 'family' and 'widths'")
        return cls(**d)

    @classmethod
    def coerce(cls, value: "Arch | str | dict[str, Any]") -> "Arch":
        """Accept an Arch, its string or its dict."""
        if isinstance(value, Arch):
            return value
        if isinstance(value, str):
            return cls.parse(value)
        return cls.from_dict(value)

    @classmethod
    def default_for(cls, input_shape: tuple[int, ...], num_classes: int, hidden: int = 64) -> "Arch":
        """The architecture :func:`metanet.generate` uses when none is given: one hidden layer MLP."""
        # name the argument at fault: a product like (1, -28, -28) -> 784 would otherwise pass unnoticed
        if isinstance(input_shape, (str, bytes)) or not all(_whole(n) for n in _items(input_shape)):
            raise ArchError(f"input_shape must be a sequence of sizes >= 1, got {input_shape!r}")
        for name, value in (("num_classes", num_classes), ("hidden", hidden)):
            if not _whole(value):
                raise ArchError(f"{name} must be a whole number >= 1, got {value!r}")
        return cls("mlp", (math.prod(int(n) for n in input_shape), int(hidden), int(num_classes)))


def _items(seq: Any) -> list[Any]:
    try:
        return list(seq)
    except TypeError:
        return [None]


def _whole(v: Any) -> bool:
    """``v`` is a whole number >= 1 (:func:`metanet.errors.whole_number`)."""
    i = whole_number(v)
    return i is not None and i >= 1


def cnn_input_hint(in_size: int, shape: tuple[int, ...], batch: str = "N", mlp: bool = True) -> str:
    """How to give inputs of ``shape`` (one example's, not channels-by-image) to a CNN of ``in_size`` input channels:
    grey images ``(H, W)`` lack their channel dimension, flattened square ones their shape; a 1-d signal ``(1, L)``,
    mnist1d's, is no image (``x[:, None]`` made it a 1 x L one) and needs an mlp (left out with ``mlp=False``, for
    a caller that names one itself). ``batch`` names the examples' dimension in the text. "" when nothing can be told.
    One rule for :func:`metanet.verify`, :func:`metanet.generate` and ``Writer.write``, which said it differently."""
    n, side = math.prod(shape), math.isqrt(math.prod(shape))
    if len(shape) == 2 and shape[0] > 1 and in_size == 1:
        return f"images of shape ({batch}, H, W) need their channel dimension, ({batch}, 1, H, W): x[:, None]"
    if len(shape) == 1 and side > 1 and side * side == n and in_size == 1:
        return f"flattened images need their shape back, ({batch}, 1, {side}, {side}): x.view(-1, 1, {side}, {side})"
    return f"inputs that are not images need an mlp (of {n} input features)" if mlp and len(shape) <= 2 else ""
