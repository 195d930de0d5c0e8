"""Lazy package attributes: ``__getattr__ = lazy_attributes(__name__, {"Name": "submodule"})``.

A package lists which submodule defines each public name; the submodule (and what it imports, e.g. PyTorch
Geometric) is imported on first use of the name, not when the package is imported. So the ``metanet`` command
imports a subsystem's ``cli`` module (and with it the package) to build its parser without loading PyTorch.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any, Callable, Mapping

__all__ = ["lazy_attributes", "LazyPackage", "own_attribute"]


def lazy_attributes(package: str, table: Mapping[str, str], submodules: bool = False) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` resolving ``name`` from ``package.<table[name]>`` (then cached).
    With ``submodules``, any other name of a submodule gives that submodule, imported: as it was when the package
    imported all of them eagerly (``import metanet.zoo; metanet.zoo.store.Store``)."""

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            # an identifier only: 'a.b' raised ModuleNotFoundError for a, escaping getattr(pkg, name, default)
            if submodules and not name.startswith("__") and name.isidentifier():
                try:
                    return importlib.import_module(f"{package}.{name}")
                except ModuleNotFoundError as e:
                    if e.name != f"{package}.{name}":  # the submodule exists, something it imports does not
                        raise
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)
        return value

    __getattr__.lazy_table = dict(table)  # type: ignore[attr-defined]  # for own_attribute: names, no code
    return __getattr__


def own_attribute(module: types.ModuleType, name: str) -> Any:
    """``module``'s attribute ``name`` (None if it has none) without calling a module ``__getattr__`` (which may run
    any code) other than a :func:`lazy_attributes` one's for a name of its table (metanet's own submodule)."""
    names = vars(module)
    if name in names:
        return names[name]
    hook = names.get("__getattr__")  # a plain function's own dict: no attribute lookup of any other object runs code
    table = vars(hook).get("lazy_table") if isinstance(hook, types.FunctionType) else None
    return getattr(module, name, None) if isinstance(table, dict) and name in table else None


class LazyPackage(types.ModuleType):
    """The class of a lazy package one of whose public names is also its defining submodule's name (the function
    ``metanet.zoo.build`` of ``metanet.zoo.build``): importing the submodule binds it as the package's attribute,
    which would shadow the function, so the function (a name in ``__all__``) is bound instead, as the eager
    ``from .build import build`` did."""

    def __setattr__(self, name: str, value: Any) -> None:
        if (isinstance(value, types.ModuleType) and value.__name__ == f"{self.__name__}.{name}"
                and name in self.__dict__.get("__all__", ()) and hasattr(value, name)):
            value = getattr(value, name)
        super().__setattr__(name, value)
