"""Inspect a network: a database of what every hidden neuron does (:class:`NeuronDB`), a human-readable
``INDEX.md``, and pictures (:func:`save_pictures`, imported on first use: it needs matplotlib).

>>> import metanet
>>> model = metanet.generate("digits", seed=0).model   # an MLP 64-64-10 written by the shipped writer
>>> db = metanet.inspect(model, "digits")     # this package is callable: same as metanet.inspect.inspect(...)
>>> len(db)                                    # one row per hidden neuron
64
>>> paths = db.save("out/")                    # out/neurons.sqlite + out/INDEX.md
>>> db.supporting(8)                           # neurons without which class 8 loses accuracy  # doctest: +ELLIPSIS
[(1, ...)...]

The package module itself is callable, so ``metanet.inspect(model, task)`` works whether ``metanet.inspect``
is bound to this package (as Python does whenever a submodule such as ``metanet.inspect.cli`` is imported) or
to the :func:`inspect` function.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from metanet._lazy import lazy_attributes

__all__ = ["inspect", "NeuronDB", "NetView", "COLUMNS", "save_pictures"]

# public name -> submodule defining it, imported on first use: the `metanet` command imports metanet.inspect.cli (and
# so this package) to build its parser, which then loaded PyTorch (and save_pictures matplotlib only when asked for)
_LAZY = {"inspect": "analyze", "NeuronDB": "db", "COLUMNS": "db", "NetView": "netview", "save_pictures": "pictures"}

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from metanet.inspect.analyze import inspect
    from metanet.inspect.db import COLUMNS, NeuronDB
    from metanet.inspect.netview import NetView
    from metanet.inspect.pictures import save_pictures

__getattr__ = lazy_attributes(__name__, _LAZY, submodules=True)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _CallableModule(types.ModuleType):
    def __call__(self, model, task, *args: Any, **kwargs: Any) -> NeuronDB:
        """``metanet.inspect(model, task, ...)``: the same as :func:`metanet.inspect.inspect` (its help says more)."""
        from metanet.inspect.analyze import inspect

        return inspect(model, task, *args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
