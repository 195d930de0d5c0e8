"""Inspect a network: a database of what every hidden neuron does (:class:`NeuronDB`), a human-readable
``INDEX.md``, and pictures (:func:`save_pictures`, imported on first use: it needs matplotlib).

>>> import metanet
>>> db = metanet.inspect.inspect(model, "digits")       # metanet.inspect(model, task) at top level
>>> db.save("out/")                                      # out/neurons.sqlite + out/INDEX.md
>>> db.supporting(8)                                     # neurons without which class 8 loses accuracy
"""

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
