"""The task-name grammar: ``NAME[CLASSES]+TRANSFORM+...``.

``NAME`` is a base data set (``mnist``, ``fashion-mnist``, ``digits``, ``mnist1d``; case-insensitive);
``[CLASSES]`` an optional comma list of class ids and inclusive ranges (``[3,8]``, ``[0-4]``, ``[0-2,7]``),
remapped to labels ``0..k-1`` in the listed order; each ``+TRANSFORM`` is ``permute(SEED)``, ``invert`` or
``relabel(SEED)``, applied in order. Whitespace is ignored. The canonical name is lower-case, without
whitespace, with class items and seeds written as plain integers (``mnist[0-4]`` stays ``mnist[0-4]``).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from metanet.errors import TaskError

from .sources import ALIASES, BASE_NAMES, CLASS_NAMES, canonical_base
from .transforms import MAX_SEED, TRANSFORM_FORMS, Transform

__all__ = ["TaskSpec", "parse_spec", "canonical_name", "is_task_name", "GRAMMAR_HELP"]

GRAMMAR_HELP = (
    "valid forms: NAME, NAME[CLASSES], each optionally followed by +permute(SEED), +invert, +relabel(SEED) "
    f"(in any order, repeatable); NAME is one of {', '.join(BASE_NAMES)}; CLASSES is a comma list of class ids "
    "or ranges; e.g. mnist[3,8], mnist[0-4], fashion-mnist[0-4]+permute(3)+invert"
)

_NAME = re.compile(r"[a-z0-9_-]+")
_INT = re.compile(r"\d+")
_RANGE = re.compile(r"(\d+)-(\d+)")
_TRANSFORM = re.compile(r"([a-z_]+)(?:\((.*)\))?")


@dataclass(frozen=True)
class TaskSpec:
    """A parsed task name: base data set, class subset (base class ids in label order) and transforms."""

    base: str
    classes: tuple[int, ...] | None
    subset_text: str | None
    transforms: tuple[Transform, ...]

    @property
    def canonical(self) -> str:
        text = self.base
        if self.subset_text is not None:
            text += f"[{self.subset_text}]"
        return text + "".join(f"+{t}" for t in self.transforms)


def digits_value(digits: str) -> int:
    """A run of digits as an int, 10**30 for any longer than 30 digits: int() refuses more than 4,300 (a ValueError,
    not a TaskError), and every class id, count and seed is checked against a far smaller limit. Messages quote such
    a number as written (``digits.lstrip("0")``), not this value."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= 30 else 10**30


def _fail(spec: str, problem: str) -> TaskError:
    return TaskError(f"bad task name {spec!r}: {problem}; {GRAMMAR_HELP}")


def _parse_subset(spec: str, base: str, body: str) -> tuple[tuple[int, ...], str]:
    k = len(CLASS_NAMES[base])
    if not body:
        raise _fail(spec, "empty class list '[]'")
    classes: list[int] = []
    items: list[str] = []
    for item in body.split(","):
        # numbers as written in the messages: one of 5,000 digits is no int to print
        if _INT.fullmatch(item):
            ids = [digits_value(item)]
            items.append(str(ids[0]))
        elif m := _RANGE.fullmatch(item):
            a, b = map(digits_value, m.groups())
            a_text, b_text = (g.lstrip("0") or "0" for g in m.groups())
            if a > b:
                raise _fail(spec, f"range {item!r} runs backwards; write it as {b_text}-{a_text}")
            if b >= k:  # checked before the range is built: 0-99999999999999999999 is no list to make
                raise _fail(spec, f"class {a_text if a >= k else k} is out of range: {base} has classes 0-{k - 1}")
            ids = list(range(a, b + 1))
            items.append(f"{a}-{b}")
        else:
            what = "an empty item" if not item else f"{item!r}"
            raise _fail(spec, f"class list has {what}; items are class ids like 3 or ranges like 0-4")
        for c in ids:
            if c >= k:  # a single id: a range past the last class is refused above
                raise _fail(spec, f"class {item.lstrip('0')} is out of range: {base} has classes 0-{k - 1}")
            if c in classes:
                raise _fail(spec, f"class {c} is listed twice")
            classes.append(c)
    if len(classes) < 2:
        raise _fail(spec, f"a task needs at least 2 classes, the list gives {len(classes)}")
    return tuple(classes), ",".join(items)


def _parse_transform(spec: str, piece: str) -> Transform:
    if not piece:
        raise _fail(spec, "empty transform (a '+' with nothing after it)")
    m = _TRANSFORM.fullmatch(piece)
    kind = m.group(1) if m else None
    if kind not in ("permute", "invert", "relabel"):
        raise _fail(spec, f"unknown transform {piece!r}; transforms are {', '.join(TRANSFORM_FORMS)}")
    arg = m.group(2)
    if kind == "invert":
        if arg is not None:
            raise _fail(spec, "invert takes no argument: write +invert")
        return Transform("invert")
    if arg is None or not _INT.fullmatch(arg):
        raise _fail(spec, f"{kind} needs a non-negative integer seed, e.g. {kind}(3), got {piece!r}")
    if digits_value(arg) > MAX_SEED:  # a seed it is (it said "non-negative" of 2**63, naming no limit)
        raise _fail(spec, f"{kind} needs a non-negative integer seed of at most {MAX_SEED}, e.g. {kind}(3), "
                    f"got {piece!r}")
    return Transform(kind, int(arg))


def parse_spec(name: str) -> TaskSpec:
    """Parse a task name into a :class:`TaskSpec` (no data is loaded). Raises TaskError naming the problem."""
    if not isinstance(name, str):
        raise TaskError(f"a task name must be a string, got {type(name).__name__}; {GRAMMAR_HELP}")
    if m := re.search(r"\d\s+\d", name):  # whitespace is dropped below: "mnist[0 3,8]" would read as [3,8]
        raise _fail(name, f"{m.group(0)!r} has digits split by whitespace (a class id or seed is one number); "
                    "separate class ids with commas, e.g. mnist[3,8]")
    spec = re.sub(r"\s+", "", name).lower()
    if not spec:
        raise TaskError(f"empty task name; {GRAMMAR_HELP}")
    m = _NAME.match(spec)
    if not m:
        raise _fail(name, "it must start with a data set name")
    word = m.group(0)
    base = canonical_base(word)
    if base is None:
        if word in ("permute", "invert", "relabel"):
            raise _fail(name, f"{word} is a transform and goes after a data set name, e.g. mnist+{word}"
                        + ("(3)" if word != "invert" else ""))
        close = difflib.get_close_matches(word, list(BASE_NAMES) + list(ALIASES), n=1)
        hint = f" (did you mean {canonical_base(close[0])}?)" if close else ""
        raise _fail(name, f"unknown data set {word!r}{hint}")
    rest = spec[m.end():]
    classes: tuple[int, ...] | None = None
    subset_text: str | None = None
    if rest.startswith("["):
        close_at = rest.find("]")
        if close_at < 0:
            raise _fail(name, "'[' is never closed with ']'")
        classes, subset_text = _parse_subset(name, base, rest[1:close_at])
        rest = rest[close_at + 1:]
    transforms: list[Transform] = []
    if rest:
        if not rest.startswith("+"):
            raise _fail(name, f"unexpected {rest!r} after {spec[: len(spec) - len(rest)]!r}; transforms start with '+'")
        transforms = [_parse_transform(name, piece) for piece in rest[1:].split("+")]
    return TaskSpec(base, classes, subset_text, tuple(transforms))


def canonical_name(name: str) -> str:
    """The canonical form of a task name (validated, no data loaded)."""
    return parse_spec(name).canonical


def is_task_name(text: object) -> bool:
    """Whether ``text`` is a valid task name in the grammar (no data is loaded)."""
    try:
        parse_spec(text)  # type: ignore[arg-type]
    except TaskError:
        return False
    return True
