"""Lazy package attributes: ``__getattr__ = lazy_attributes(__name__, {"Name": "submodule"})``.

A package lists which submodule defines each public name; the submodule (and what it imports, e.g. PyTorch
Geometric) is imported on first use of the name, not when the package is imported.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, Callable, Mapping

__all__ = ["lazy_attributes"]


def lazy_attributes(package: str, table: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` resolving ``name`` from ``package.<table[name]>`` (then cached)."""

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
