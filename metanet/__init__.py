"""metanet: a meta-network that reads and writes the weights of other neural networks.

The top-level names are imported lazily, so ``import metanet`` (and the ``metanet`` command's start, where a Ctrl-C
must reach its handler) imports no PyTorch, and a script that only needs ``metanet.verify`` does not pay for
Lightning or PyG.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from metanet.errors import (
    ArchError,
    CheckpointError,
    ConfigError,
    FileFormatError,
    GraphError,
    MetanetError,
    RecipeError,
    TaskError,
    ZooError,
)

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY = {
    "verify": "metanet.verify",
    "Report": "metanet.verify",
    "save": "metanet.io",
    "load": "metanet.io",
    "load_meta": "metanet.io",
    "Arch": "metanet.nets",
    "generate": "metanet.writer",
    "Generated": "metanet.writer",
    "Writer": "metanet.writer",
    "Zoo": "metanet.zoo",
    "Recipe": "metanet.zoo",
    "NeuralGraph": "metanet.graph",
    "to_graph": "metanet.graph",
    "from_graph": "metanet.graph",
    "Reader": "metanet.reader",
    "read": "metanet.reader",
    "improve": "metanet.loop",
    "refine": "metanet.loop",
    "Reward": "metanet.loop",
    "NeuronDB": "metanet.inspect",
}
# `metanet.inspect` is a callable package: metanet.inspect(model, task) -> NeuronDB
_SUBMODULES = {"tasks", "nets", "graph", "zoo", "io", "writer", "reader", "loop", "inspect", "edit"}

if TYPE_CHECKING:  # what a type checker sees of the lazy names (the module __getattr__ made every one of them Any)
    from metanet import edit, graph, io, loop, nets, reader, tasks, writer, zoo
    from metanet.graph import NeuralGraph, from_graph, to_graph
    from metanet.inspect import NeuronDB, _CallableModule
    from metanet.io import load, load_meta, save
    from metanet.loop.core import improve
    from metanet.loop.refine import refine
    from metanet.loop.rewards import Reward
    from metanet.nets import Arch
    from metanet.reader import Reader, read
    from metanet.verify import Report, verify
    from metanet.writer.generate import Generated, generate
    from metanet.writer.model import Writer
    from metanet.zoo import Recipe, Zoo

    # a module that is called, metanet.inspect(model, task) -> NeuronDB: as a plain module it was 'not callable'
    inspect: _CallableModule

__all__ = [
    "__version__",
    "MetanetError",
    "TaskError",
    "ArchError",
    "GraphError",
    "FileFormatError",
    "RecipeError",
    "ZooError",
    "CheckpointError",
    "ConfigError",
    *_LAZY,
    *sorted(_SUBMODULES),
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"metanet.{name}")
    else:
        raise AttributeError(f"module 'metanet' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """The ``metanet`` package: ``metanet.verify`` is the function, whichever way its submodule was first imported.
    Importing a submodule binds it as the package's attribute (``import metanet.verify`` did, shadowing the
    function), so that binding puts the submodule's function there instead; it is loaded on first use, not by
    ``import metanet``, since it imports PyTorch."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "verify" and isinstance(value, types.ModuleType) and value.__name__ == "metanet.verify":
            value = value.verify
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
