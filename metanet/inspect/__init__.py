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

import sys
import types
from typing import Any

from metanet.inspect.analyze import inspect
from metanet.inspect.db import COLUMNS, NeuronDB
from metanet.inspect.netview import NetView

__all__ = ["inspect", "NeuronDB", "NetView", "COLUMNS", "save_pictures"]


def __getattr__(name: str) -> Any:
    if name == "save_pictures":
        from metanet.inspect.pictures import save_pictures

        return save_pictures
    raise AttributeError(f"module 'metanet.inspect' has no attribute {name!r}")


class _CallableModule(types.ModuleType):
    def __call__(self, model, task, *args: Any, **kwargs: Any) -> NeuronDB:
        return inspect(model, task, *args, **kwargs)

    __call__.__doc__ = inspect.__doc__


sys.modules[__name__].__class__ = _CallableModule
