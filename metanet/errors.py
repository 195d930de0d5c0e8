"""One exception hierarchy for user mistakes.

Every error a user can cause (a bad task name, a malformed file, an unsupported layer) is a
:class:`MetanetError`; the CLI prints its message on one line and exits with code 2. Each subclass
also derives from the built-in exception a Python user would expect (``ValueError`` and friends), so
``except ValueError`` keeps working. :func:`check_whole` and :func:`check_number` are the shared checks of options
that raise :class:`ConfigError`; :func:`whole_number` is the one reading of a user-given index (a network id, a layer,
a neuron, a trigger's position).
"""

from __future__ import annotations

import math
import numbers
import operator
from typing import Any, Callable

__all__ = [
    "MetanetError",
    "TaskError",
    "ArchError",
    "GraphError",
    "FileFormatError",
    "RecipeError",
    "ZooError",
    "CheckpointError",
    "ConfigError",
    "MetadataError",
    "check_whole",
    "check_number",
    "check_seed",
    "as_index",
    "is_flag",
    "integer",
    "whole_number",
]


class MetanetError(Exception):
    """Base class of every error metanet raises for a user mistake."""


class TaskError(MetanetError, ValueError):
    """Unknown task name, malformed task grammar, unusable examples, missing data files."""


class ArchError(MetanetError, ValueError):
    """An architecture string/dict that does not describe a supported network, or a module that does not fit."""


class GraphError(MetanetError, ValueError):
    """A module that cannot be encoded as a neural graph, or a malformed graph given to ``from_graph``."""


class FileFormatError(MetanetError, ValueError):
    """A file that is not what it should be: not safetensors, truncated, missing its architecture header."""


class RecipeError(MetanetError, ValueError):
    """A zoo recipe with an unknown key, a bad range or an unknown task."""


class ZooError(MetanetError, ValueError):
    """A zoo directory that is missing, corrupt, or asked for something it does not hold."""


class CheckpointError(MetanetError, ValueError):
    """A reader/writer checkpoint that is missing or does not match the model it is loaded into."""


class ConfigError(MetanetError, ValueError):
    """A model or training option outside its valid range (a meta-network's size, an episode's shot counts)."""


class MetadataError(ConfigError, TypeError):
    """Metadata given to :func:`metanet.save` that JSON cannot hold (also a ``TypeError``, as it was documented)."""


def check_whole(what: str, value: Any, least: int) -> int:
    """``value`` as a Python int, else :class:`ConfigError` ``"{what} must be a whole number >= {least}, got
    {value!r}"``: the one check of a size or count option. Python, numpy and one-element torch integers are taken
    (a numpy integer was refused here while :func:`~metanet.writer.generate` took it); bools and floats (``2.0``
    too) are refused (:func:`as_index`)."""
    i = as_index(value)
    if i is None or i < least:
        raise ConfigError(f"{what} must be a whole number >= {least}, got {value!r}")
    return i


def is_flag(v: Any) -> bool:
    """``v`` is a bool: Python, numpy or a torch / numpy bool array. Not a number, though ``True == 1``: a flag
    passed where a size, a fraction or a threshold belongs."""
    return isinstance(v, bool) or str(getattr(v, "dtype", "")) in ("bool", "torch.bool")


def as_index(v: Any) -> int | None:
    """``v`` as a Python int when it is an integer: a Python, numpy or one-element torch integer; else None. Bools
    (Python, numpy, torch) are None: ``True`` is not a size of 1. The one rule of :func:`check_whole` and
    :func:`integer`."""
    if is_flag(v):
        return None
    try:
        return operator.index(v)
    except TypeError:
        return None


#: most iterations a count option takes (refine's steps, improve's rounds and refine_steps, the writer's steps and
#: head_iters): 10**9 training steps or writes, at >= 1 ms each, run for more than 11 days. A larger count (10**30,
#: a garbage 2**63) is a mistake: it was accepted and the call never returned
MAX_ITERATIONS = 10**9


def check_number(name: str, value: Any, valid: str, ok: Callable[[Any], bool], integer: bool = False) -> None:
    """Raise :class:`ConfigError` unless ``value`` is a finite number (an integer if ``integer``) with
    ``ok(value)``; ``valid`` says which (``"> 0"``)."""
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind) or not _finite(value) or not ok(value):
        raise ConfigError(f"need {name} {valid} (a finite {'integer' if integer else 'number'}), got {value!r}")


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond float range (10**400) was a raw OverflowError, not the option's error
        return False


def check_seed(seed: Any, name: str = "seed") -> int:
    """``seed`` as a Python int, else :class:`ConfigError` ``"need {name} (any integer) (a finite integer), got
    ..."``: the one check of a seed option (the loop's functions and the Lightning stages' data modules). Bools,
    floats (``1.0`` too), strings and None are refused; numpy integers are taken."""
    check_number(name, seed, "(any integer)", lambda v: True, integer=True)
    return int(seed)


def whole_number(v: Any) -> int | None:
    """``v`` as an ``int`` when it names a whole number, else None.

    Accepted: Python, numpy and one-element torch integers, integral floats (``3.0``) and the text of an integer
    (``"3"``, as a command line gives it). Refused: bools (``True`` is not index 1), ``2.7`` (``int()`` would silently
    truncate it to 2), infinities, NaN and anything else.
    """
    if isinstance(v, str):
        try:
            return int(v.strip())
        except ValueError:
            return None
    if isinstance(v, (bool, bytes)) or str(getattr(v, "dtype", "")) in ("bool", "torch.bool"):
        return None
    try:
        return operator.index(v)
    except TypeError:
        pass
    try:
        f = float(v)  # numpy/torch floats and one-element float tensors
    except (TypeError, ValueError, RuntimeError):  # RuntimeError: a tensor of several numbers
        return None
    return int(f) if math.isfinite(f) and f.is_integer() else None


def integer(name: str, v: object, least: int | None = None, none: str = "") -> int:
    """``v`` as an int: Python, numpy or one-element torch integers (not bools, not floats: ``2.0`` candidates are a
    mistake, not 2), else a TaskError. The one rule of :meth:`~metanet.writer.Writer.write`,
    :func:`~metanet.writer.generate` and the task transforms' seeds:
    the writer refused the torch integers ``generate`` passed on. ``none`` prefixes the alternative to an integer
    (``"None (...) or "``) in the message."""
    i = as_index(v)
    if i is None or (least is not None and i < least):
        raise TaskError(f"{name} must be {none}an integer{f' >= {least}' if least is not None else ''}, got {v!r}")
    return i
