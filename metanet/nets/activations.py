"""The activation functions metanet networks may use, by name.

One table maps a short name (as written in an :class:`~metanet.nets.Arch` string) to its ``nn.Module``
class, so architectures, neural graphs and saved files all agree on the same vocabulary. The integer
code of an activation (its position in :data:`ACTIVATIONS`) is what neural-graph node features carry.
"""

from __future__ import annotations

from torch import nn

from metanet.errors import ArchError

__all__ = ["ACTIVATIONS", "activation", "activation_name", "activation_code"]

#: name -> module class. Order is part of the neural-graph format (the code is the index): append only.
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "identity": nn.Identity,
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "gelu": nn.GELU,
    "sigmoid": nn.Sigmoid,
    "leaky_relu": nn.LeakyReLU,
    "silu": nn.SiLU,
}
_BY_CLASS = {cls: name for name, cls in ACTIVATIONS.items()}


def activation(name: str) -> nn.Module:
    """A fresh activation module for ``name`` (one of :data:`ACTIVATIONS`)."""
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ArchError(f"unknown activation {name!r}; valid: {', '.join(ACTIVATIONS)}") from None


def activation_name(module: nn.Module) -> str | None:
    """The name of an activation module, or None if ``module`` is not one metanet supports.

    Only default-configured modules count: a ``LeakyReLU`` with a non-default slope or a ``GELU`` with
    ``approximate='tanh'`` would not survive a round trip through the name alone.
    """
    name = _BY_CLASS.get(type(module))
    if name == "leaky_relu" and module.negative_slope != 0.01:
        return None
    if name == "gelu" and module.approximate != "none":
        return None
    return name


def activation_code(name: str) -> int:
    """Integer id of an activation, as stored in neural-graph node features."""
    try:
        return list(ACTIVATIONS).index(name)
    except ValueError:
        raise ArchError(f"unknown activation {name!r}; valid: {', '.join(ACTIVATIONS)}") from None
