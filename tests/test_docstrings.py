"""Every public name (each package's ``__all__``) has a docstring, and its ``Args:`` section names exactly the
parameters of its signature (a renamed or added parameter left the docs stale); ``Raises:`` names real exceptions.

Public means: the functions and classes in the ``__all__`` of the packages below (lazily exported names resolved),
and the public methods and properties that metanet's own classes define (inherited torch / PyG / Lightning members
are not ours to document). Google style: ``Args:`` entries are ``name: text`` lines at one indentation, several
names may share one (``x, y: the examples``), ``*args`` / ``**kwargs`` keep their stars; a class documents its
``__init__`` parameters in its own docstring.
"""

from __future__ import annotations

import builtins
import functools
import importlib
import inspect
import re
import types
from typing import Any, Callable, Iterator

import pytest

import metanet.errors

PACKAGES = [
    "metanet",
    "metanet.tasks",
    "metanet.nets",
    "metanet.graph",
    "metanet.zoo",
    "metanet.reader",
    "metanet.writer",
    "metanet.loop",
    "metanet.inspect",
    "metanet.edit",
    "metanet.io",
    "metanet.errors",
    "metanet.checkpoints",
    "metanet.verify",
]

# one entry: "name:", "x, y:", "**meta:", "name (int):"; the text may follow on the line or below it
_ENTRY = re.compile(r"^(\*{0,2}\w+(?:\s*,\s*\*{0,2}\w+)*)\s*(?:\([^)]*\))?\s*:(?:\s|$)")


def section_entries(doc: str | None, title: str) -> list[str] | None:
    """The names of section ``title``'s entries (``None`` without such a section); a line at the entries'
    indentation that is no entry comes back as ``"?<line>"``."""
    if not doc:
        return None
    lines = inspect.cleandoc(doc).splitlines()
    for i, line in enumerate(lines):
        if line.strip() != f"{title}:":
            continue
        base = len(line) - len(line.lstrip())
        names: list[str] = []
        indent = None
        for entry in lines[i + 1:]:
            if not entry.strip():
                continue
            depth = len(entry) - len(entry.lstrip())
            if depth <= base:  # the next section (or prose) at the section's own level
                break
            indent = depth if indent is None else indent
            if depth > indent:  # the continuation of an entry's text
                continue
            m = _ENTRY.match(entry.strip())
            names += [n.strip() for n in m.group(1).split(",")] if m else [f"?{entry.strip()}"]
        return names
    return None


def parameter_names(fn: Callable, bound: bool) -> list[str]:
    """``fn``'s parameter names as an ``Args:`` section writes them (``*args``, ``**kwargs``); ``bound``: without
    ``self`` / ``cls``."""
    params = list(inspect.signature(fn).parameters.values())
    if bound and params and params[0].name in ("self", "cls"):
        params = params[1:]
    stars = {inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**"}
    return [stars.get(p.kind, "") + p.name for p in params]


def _function_of(member: Any) -> Callable | None:
    if isinstance(member, property):
        return member.fget
    if isinstance(member, (classmethod, staticmethod)):
        return member.__func__
    if isinstance(member, functools.cached_property):
        return member.func
    if inspect.isfunction(member):
        return member
    return None  # a constant, a dataclass default, a nested class alias


def public_api() -> Iterator[tuple[str, Any, Callable | None, bool]]:
    """``(qualified name, object, function whose signature the Args document, bound)`` for every public
    function, class, method and property, each once."""
    seen: set[Any] = set()
    for pkg in PACKAGES:
        module = importlib.import_module(pkg)
        for name in module.__all__:
            obj = getattr(module, name)  # resolves the lazily exported names
            if isinstance(obj, types.ModuleType) or id(obj) in seen:
                continue
            if inspect.isfunction(obj):
                seen.add(id(obj))
                yield f"{obj.__module__}.{obj.__qualname__}", obj, obj, False
            elif inspect.isclass(obj):
                seen.add(id(obj))
                yield f"{obj.__module__}.{obj.__qualname__}", obj, obj.__init__, True
                for klass in obj.__mro__:
                    if not klass.__module__.startswith("metanet"):
                        continue
                    for attr, member in vars(klass).items():
                        fn = _function_of(member)
                        if fn is None or (attr.startswith("_") and attr != "__init__") or (klass, attr) in seen:
                            continue
                        seen.add((klass, attr))
                        bound = not isinstance(member, staticmethod)
                        yield f"{klass.__module__}.{klass.__qualname__}.{attr}", member, fn, bound


@pytest.fixture(scope="module")
def api() -> list[tuple[str, Any, Callable | None, bool]]:
    return list(public_api())


def _doc(obj: Any, fn: Callable | None) -> str | None:
    if inspect.isclass(obj):
        return obj.__dict__.get("__doc__")  # its own, not a base class's
    return fn.__doc__ if fn is not None else None


def test_every_public_name_has_a_docstring(api):
    missing = [q for q, obj, fn, _ in api if not q.endswith(".__init__") and not (_doc(obj, fn) or "").strip()]
    for pkg in PACKAGES:
        if not (importlib.import_module(pkg).__doc__ or "").strip():
            missing.append(f"module {pkg}")
    assert not missing, "public names without a docstring:\n  " + "\n  ".join(missing)


def args_mismatch(doc: str | None, fn: Callable, bound: bool) -> str | None:
    """What is wrong with ``doc``'s ``Args:`` section for ``fn`` (None: nothing, or no such section)."""
    documented = section_entries(doc, "Args")
    if documented is None:
        return None
    actual = parameter_names(fn, bound)
    stale = [n for n in documented if n not in actual]
    undocumented = [n for n in actual if n not in documented]
    repeated = sorted({n for n in documented if documented.count(n) > 1})
    if not (stale or undocumented or repeated):
        return None
    return (f"documented but no parameter {stale}, parameter not documented {undocumented}"
            + (f", documented twice {repeated}" if repeated else ""))


def test_args_sections_name_exactly_the_parameters(api):
    wrong = [f"{q}: {problem}" for q, obj, fn, bound in api if (problem := args_mismatch(_doc(obj, fn), fn, bound))]
    assert not wrong, "Args: sections that do not match the signature:\n  " + "\n  ".join(wrong)


def _is_exception(name: str) -> bool:
    obj = getattr(metanet.errors, name, None) or getattr(builtins, name, None)
    return inspect.isclass(obj) and issubclass(obj, BaseException)


def test_raises_sections_name_exceptions(api):
    wrong = []
    for q, obj, fn, _ in api:
        for name in section_entries(_doc(obj, fn), "Raises") or []:
            if not _is_exception(name):
                wrong.append(f"{q}: {name!r}")
    assert not wrong, "Raises: entries that are no metanet or built-in exception:\n  " + "\n  ".join(wrong)


# --- the checker itself: it must see the mistakes it is for ----------------------------------------------------


def _stale(x, y, *rest, scale: float = 1.0, **options):
    """A stale docstring.

    Args:
        x, y: the examples.
        factor: renamed since.
        rest: stars missing.

    Raises:
        ValueError: fine. TypeError: a second error run into the first entry's text is not read as an entry.
        NoSuchError: not an exception.
    """


def test_checker_reads_entries_groups_stars_and_continuations():
    doc = """Summary.

    Args:
        x, y: the examples; a long text
            continued here: with a colon.
        **meta (dict): stars kept.

    Returns:
        text: not an argument.
    """
    assert section_entries(doc, "Args") == ["x", "y", "**meta"]
    assert section_entries("No sections.", "Args") is None
    assert section_entries(_stale.__doc__, "Args") == ["x", "y", "factor", "rest"]
    assert parameter_names(_stale, bound=False) == ["x", "y", "*rest", "scale", "**options"]
    assert [n for n in section_entries(_stale.__doc__, "Raises") if not _is_exception(n)] == ["NoSuchError"]


def test_checker_flags_a_mismatch():
    assert args_mismatch(_stale.__doc__, _stale, bound=False) == (
        "documented but no parameter ['factor', 'rest'], parameter not documented ['*rest', 'scale', '**options']")
    twice = "Summary.\n\n    Args:\n        x, y: the examples.\n        *rest, scale, **options: more.\n        x: again."
    assert args_mismatch(twice, _stale, bound=False) == (
        "documented but no parameter [], parameter not documented [], documented twice ['x']")

    class Documented:
        """A class documents its ``__init__``.

        Args:
            a: first.
            *b: the rest.
        """

        def __init__(self, a, *b):
            pass

    assert args_mismatch(Documented.__doc__, Documented.__init__, bound=True) is None
