"""Architecture families: :class:`Arch` (plain data), :class:`MLP`, :class:`CNN`, and specs for plain
``nn.Sequential`` networks."""

from metanet.nets.activations import ACTIVATIONS, activation, activation_code, activation_name
from metanet.nets.arch import FAMILIES, Arch
from metanet.nets.models import CNN, MLP, build
from metanet.nets.spec import SUPPORTED_LAYERS, from_spec, spec

__all__ = [
    "ACTIVATIONS",
    "FAMILIES",
    "SUPPORTED_LAYERS",
    "Arch",
    "MLP",
    "CNN",
    "build",
    "spec",
    "from_spec",
    "activation",
    "activation_code",
    "activation_name",
]
