"""One reading of a task spec, for every function that takes one: :func:`resolve`."""

from __future__ import annotations

import reprlib
from typing import Any

from metanet.errors import TaskError

from .examples import from_examples
from .parse import parse
from .registry import get
from .task import Task

__all__ = ["resolve"]


def resolve(spec: Any) -> Task:
    """The :class:`Task` a spec names.

    Args:
        spec: a :class:`Task` (returned as is, as is anything with ``split`` and ``num_classes``), a task name
            (``"mnist[3,8]"``), free text (``"a network that can read mnist"``, see :func:`parse`) or labelled
            examples ``(x, y)`` (see :func:`from_examples`: split per class into train / val / test, seed 0).

    Raises:
        TaskError: anything else, an unknown name, text that names no task, or bad examples.
    """
    if isinstance(spec, Task) or (not isinstance(spec, str) and hasattr(spec, "split")
                                  and hasattr(spec, "num_classes")):
        return spec
    if isinstance(spec, tuple) and len(spec) == 2 and not any(isinstance(s, str) for s in spec):
        return from_examples(*spec)
    if not isinstance(spec, str) or not spec.strip():
        short = reprlib.Repr()
        short.maxstring = short.maxother = 60
        raise TaskError(f"a task spec must be a task name ('mnist[3,8]'), a sentence ('only 3s and 8s'), a Task or "
                        f"labelled examples (x, y), got {type(spec).__name__} {short.repr(spec)}")
    try:
        return get(spec)
    except TaskError as by_name:
        try:
            return parse(spec)
        except TaskError as by_text:  # parse's message covers the name grammar as well
            raise TaskError(f"{by_text}") from by_name
