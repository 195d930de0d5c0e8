"""metanet's architecture families as ``nn.Module``s: :class:`MLP` and :class:`CNN`.

Both keep their :class:`~metanet.nets.Arch` on ``self.arch``; parameter names are stable
(``layers.{i}.weight`` / ``layers.{i}.bias``) so a population of one architecture stacks by key.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch
from torch import Tensor, nn

from metanet._state import forked_rng, out_of_memory_as
from metanet.errors import ArchError, ConfigError, whole_number
from metanet.nets.activations import activation
from metanet.nets.arch import Arch

__all__ = ["MLP", "CNN", "build"]


@contextmanager
def _allocating(arch: Arch) -> Iterator[None]:
    """Building ``arch``'s layers: a network too large for this machine's memory is an :class:`ArchError` naming its
    size (torch's allocator raises a RuntimeError, Python a MemoryError)."""
    n = arch.num_parameters()
    with out_of_memory_as(lambda: ArchError(f"not enough memory to build {arch}: its {n:,} parameters need "
                                            f"{n * 4 / 2**30:,.1f} GiB as float32; give smaller widths")):
        yield


class MLP(nn.Module):
    r"""Multi-layer perceptron: :math:`h_0 = \mathrm{flatten}(x)`,
    :math:`h_{l} = \sigma(W_l h_{l-1} + b_l)` (plus :math:`h_{l-1}` on residual layers), logits
    :math:`W_L h_{L-1} + b_L`.

    Args:
        arch: an :class:`Arch` of family ``"mlp"`` (or its string).

    Shapes:
        - input: :math:`(N, *)` with :math:`\prod * =` ``arch.widths[0]``, or one unbatched example
          :math:`(\text{arch.widths[0]},)`
        - output: :math:`(N, C)` logits, :math:`C =` ``arch.widths[-1]`` (:math:`(C,)` for an unbatched example)
    """

    def __init__(self, arch: Arch | str = "mlp:784-64-10:relu") -> None:
        super().__init__()
        arch = Arch.coerce(arch)
        if arch.family != "mlp":
            raise ArchError(f"MLP needs an mlp architecture, got {arch}; use CNN (or build(arch)) for a cnn")
        self.arch = arch
        with _allocating(arch):
            self.layers = nn.ModuleList(
                nn.Linear(a, b, bias=arch.bias) for a, b in zip(arch.widths[:-1], arch.widths[1:])
            )
        self.act = activation(arch.activation)
        # a tuple, not a set: torch.jit.script converts a tuple of ints (even an empty one), not a set or []
        self._skips = tuple(arch.skip_layers())

    def extra_repr(self) -> str:
        """``arch=...`` in ``print(model)``, naming what ``forward`` computes."""
        # the layers alone printed a skip MLP as the plain one: a network rebuilt from the printout (an nn.Sequential
        # for its state dict) computed another function
        return f"arch={self.arch}"

    def forward(self, x: Tensor) -> Tensor:
        """Logits ``(n, num_classes)`` of inputs ``(n, *input_shape)`` (flattened after the batch dimension), or
        ``(num_classes,)`` of one unbatched example ``(in_size,)``, as ``nn.Linear`` takes it."""
        h = x.flatten(1) if x.dim() > 1 else x
        # one loop over the whole ModuleList (no slice, no [-1]): torch.jit.script compiles only that form
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            if i == last:
                h = layer(h)
            else:
                z = self.act(layer(h))
                h = h + z if i in self._skips else z
        return h


class CNN(nn.Module):
    r"""Small CNN (the Small CNN Zoo shape): convolutions with stride, each followed by the activation,
    global average pooling, a linear classifier.

    Args:
        arch: an :class:`Arch` of family ``"cnn"`` (or its string).

    Shapes:
        - input: :math:`(N, C_{in}, H, W)`, :math:`C_{in} =` ``arch.widths[0]``, or unbatched :math:`(C_{in}, H, W)`
        - output: :math:`(N, C)` logits (:math:`(C,)` for an unbatched image)
    """

    def __init__(self, arch: Arch | str = "cnn:1-16-16-10:relu:k3:s2") -> None:
        super().__init__()
        arch = Arch.coerce(arch)
        if arch.family != "cnn":
            raise ArchError(f"CNN needs a cnn architecture, got {arch}; use MLP (or build(arch)) for an mlp")
        self.arch = arch
        chans = arch.widths[:-1]
        with _allocating(arch):
            convs = [
                nn.Conv2d(a, b, arch.kernel, stride=arch.stride, padding=arch.kernel // 2, bias=arch.bias)
                for a, b in zip(chans[:-1], chans[1:])
            ]
            self.layers = nn.ModuleList([*convs, nn.Linear(chans[-1], arch.widths[-1], bias=arch.bias)])
        self.act = activation(arch.activation)

    def extra_repr(self) -> str:
        """``arch=...`` and the pooling in ``print(model)``, naming what ``forward`` computes."""
        # the layers alone list the convolutions and the Linear, not the global average pooling between them
        return f"arch={self.arch}, global average pooling before layers.{len(self.layers) - 1}"

    def forward(self, x: Tensor) -> Tensor:
        """Logits ``(n, num_classes)`` of images ``(n, C, H, W)`` (convolutions, then global average pooling), or
        ``(num_classes,)`` of one unbatched image ``(C, H, W)``, as ``nn.Conv2d`` takes it."""
        h = x
        # one loop over the whole ModuleList (no slice, no [-1]): torch.jit.script compiles only that form
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            if i == last:
                h = layer(h.mean(dim=(-2, -1)))  # the spatial dims, batched or not
            else:
                h = self.act(layer(h))
        return h


def build(arch: Arch | str | dict, seed: int | None = 0) -> nn.Module:
    """A freshly initialised network of ``arch``; the same seed gives bit-identical weights.

    Initialisation is PyTorch's default for each layer, drawn from a private RNG so that the global
    random state is left untouched.

    Raises:
        ArchError: ``arch`` is not a valid architecture.
        ConfigError: ``seed`` is not a whole number torch can seed with (nor None).
    """
    arch = Arch.coerce(arch)
    cls = MLP if arch.family == "mlp" else CNN
    if seed is None:
        return cls(arch)
    # torch.manual_seed truncates 1.5 to 1 and reads True as 1, and names no argument for a seed it cannot take
    n = whole_number(seed)
    if n is None or not -(2**63) <= n < 2**64:
        raise ConfigError(f"seed must be a whole number in [-2**63, 2**64) or None, got {seed!r}")
    with forked_rng():  # under metanet's lock: another thread's seed in between changed the weights
        torch.manual_seed(n)
        return cls(arch)
