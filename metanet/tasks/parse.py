"""Free text to task, rule-based: ``parse("fashion mnist, only sneakers and boots")`` -> ``fashion-mnist[7,9]``.

Rules, in order:

1. A valid task name (``"mnist[3,8]+invert"``) is used as is; text with ``[`` or ``+`` that is not a valid name
   gets the grammar's error.
2. Transforms: "inverted" / "negative" -> ``+invert``; "permuted/shuffled/scrambled pixels" -> ``+permute(N)``;
   "shuffled/permuted labels", "relabelled" -> ``+relabel(N)``; ``N`` from a following "seed N", else 0.
   "permuted mnist" / "pixel-permuted fashion mnist" -> ``+permute(N)``. A leftover "shuffled" / "permuted" that
   says neither pixels nor labels is an error. Other data sets ("svhn", "cifar10", "emnist", ...) are errors, not
   MNIST.
3. Data set: "fashion", "clothes", "clothing", "garments", "apparel", "zalando" -> fashion-mnist; "mnist1d",
   "1d", "one-dimensional", "signals" -> mnist1d; "8x8", "sklearn", "scikit-learn", "load_digits" -> digits;
   "mnist", "handwritten", "digits", "numbers", "numerals" -> mnist; otherwise fashion class names alone ->
   fashion-mnist, and digit classes alone ("only 3s and 8s") -> mnist.
4. Classes, in the order mentioned: fashion class names, singular or plural (``"shirt"`` is Shirt; ``"t-shirt"``,
   ``"tshirt"``, ``"tee"``, ``"top"`` are T-shirt/top; ``"boots"`` is Ankle boot; also "pants", "sweater",
   "jacket", "handbag"); digits ``3``, ``3s``, ``3's``, plural words (``"threes"``), ranges (``"0-4"``,
   ``"0 to 4"``), "even" / "odd". Numbers that count something ("5 examples", "2 layers", "1 epoch", "top-5") are
   not classes. Classes after "without" / "except" / "excluding" / "but not" / "no" are left out ("mnist without 7"
   is ``mnist[0-6,8,9]``).
"""

from __future__ import annotations

import difflib
import re

from metanet.errors import TaskError

from .grammar import parse_spec
from .registry import get
from .sources import BASE_NAMES, CLASS_NAMES
from .task import Task

__all__ = ["parse", "text_to_spec", "UNDERSTOOD"]

UNDERSTOOD = (
    f"data set names ({', '.join(BASE_NAMES)}); phrases such as 'handwritten digits' (mnist), 'clothing', "
    "'clothes', 'fashion' (fashion-mnist), '8x8 digits', 'sklearn digits' (digits), '1d signals' (mnist1d); "
    "class subsets such as 'digits 3 and 8', 'only 3s and 8s', 'digits 0 to 4', 'sneakers and boots'; "
    "'inverted', 'permuted pixels seed 3', 'shuffled labels'; or a task name such as "
    "'fashion-mnist[0-4]+permute(3)+invert'"
)

_FASHION_WORDS = r"\b(fashion|cloth(es|ing)|garments?|apparel|zalando|fmnist)\b"
_MNIST1D_WORDS = r"mnist[\s_-]*1[\s-]*d\b|\b1[\s-]?d\b|\bone[\s-]dimensional\b|\bsignals?\b"
_DIGITS_WORDS = r"\b8\s*[x×]\s*8\b|\bsklearn\b|\bscikit[\s-]?learn\b|\bload_digits\b"
_MNIST_WORDS = r"\bmnist\b|\bhand[\s-]?writ\w*|\bdigits?\b|\bnumbers?\b|\bnumerals?\b"

# Fashion classes by base id. "shirt" not preceded by "t-" / "t " is Shirt (6).
_FASHION_CLASSES = (
    (0, r"\bt[\s-]?shirts?(?:/tops?)?\b|\btees?\b|\btops?\b"),
    (1, r"\btrousers?\b|\bpants\b|\bjeans\b"),
    (2, r"\bpullovers?\b|\bsweaters?\b|\bjumpers?\b"),
    (3, r"\bdress(?:es)?\b"),
    (4, r"\bcoats?\b|\bjackets?\b"),
    (5, r"\bsandals?\b"),
    (6, r"(?<!\bt-)(?<!\bt )\bshirts?\b"),
    (7, r"\bsneakers?\b"),
    (8, r"\b(?:hand)?bags?\b"),
    (9, r"\b(?:ankle[\s-]?)?boots?\b"),
)
_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_PLURAL_WORDS = {
    **{w + "s": i for i, w in enumerate(_NUMBER_WORDS)},
    "zeroes": 0,
    "sixes": 6,
}

_SEED = r"(?:\W{0,3}(?:with|using)?\s*\(?\s*seed\s*[=:]?\s*(\d+)\)?)?"
_INVERT = re.compile(r"\b(invert(?:ed)?|inverse|negative|negated)\b")
_PERMUTE = re.compile(
    r"\b(?:(?:permuted|permute|shuffled?|scrambled?)[\s-]+(?:the\s+)?(?:pixels?|inputs?|features?)"
    r"|(?:pixels?|inputs?|features?)[\s-]+(?:permuted|shuffled|scrambled))\b" + _SEED
)
# "permuted mnist" (the name of the pixel-permutation benchmark), "pixel-permuted fashion mnist seed 3": the data
# set name stays in the text (it is only looked at), the seed may follow it.
_PERMUTED_DATA = re.compile(
    r"\b(?:pixel[\s-]?)?(?:permuted|scrambled)(?=[\s-]+(?:fashion[\s_-]*mnist|mnist|fashion|clothing|clothes"
    r"|handwritten\s+digits|digits)\b" + _SEED + ")"
)
_RELABEL = re.compile(
    r"\b(?:relabel(?:l?ed)?|(?:permuted|permute|shuffled?|scrambled?)[\s-]+(?:the\s+)?(?:labels?|classes)"
    r"|(?:labels?|classes)[\s-]+(?:permuted|shuffled|scrambled))\b" + _SEED
)
# A shuffling word left over once the transforms above are taken: pixels or labels, the text does not say.
_AMBIGUOUS_SHUFFLE = re.compile(r"\b(?:permuted?|permutation|shuffled?|scrambled?)\b")
# Phrases after which the classes mentioned are left out: "mnist without 7", "clothing except bags".
_EXCLUDE = re.compile(
    r"\b(?:without|except(?:\s+for)?|excluding|exclude|but\s+not|other\s+than|apart\s+from|not|no)\b"
)
# Other data sets people name; without this check "svhn digits 3 and 8" would silently load MNIST.
_OTHER_DATA_SETS = re.compile(
    r"\b(cifar[\s-]?\d*|svhn|emnist|kmnist|qmnist|notmnist|usps|imagenet|omniglot|kuzushiji|celeba|stl[\s-]?10)\b"
)
# Numbers that count something other than classes: "5 examples per class", "2-layer", "1 epoch", "top-5".
_COUNTS = (
    r"\b\d+[\s-]*(?:examples?|samples?|shots?|epochs?|(?:hidden[\s-]+)?layers?|hidden|units?|neurons?|steps?"
    r"|candidates?|networks?|nets?|models?|seeds?|runs?|iterations?|batch(?:es)?|channels?|filters?"
    r"|(?:images?|pictures?)\s+(?:per|each|a)\b)\b|\btop[\s-]*\d+\b"
)


def _normalise(text: str) -> str:
    s = text.lower()
    s = s.replace("\u2013", "-").replace("\u2014", "-").replace("\u2019", "'")
    return s


def _take_transforms(s: str) -> tuple[str, list[str]]:
    """Find transform phrases; return the text with them blanked out and the transforms in order."""
    found: list[tuple[int, str]] = []
    for pattern, kind in (
        (_PERMUTE, "permute"), (_PERMUTED_DATA, "permute"), (_RELABEL, "relabel"), (_INVERT, "invert")
    ):
        for m in pattern.finditer(s):
            if kind == "invert":
                found.append((m.start(), "invert"))
            else:
                found.append((m.start(), f"{kind}({int(m.group(1)) if m.group(1) else 0})"))
            s = s[: m.start()] + " " * (m.end() - m.start()) + s[m.end():]
            if kind != "invert" and m.group(1) and m.start(1) >= m.end():  # a seed inside the lookahead
                s = s[: m.start(1)] + " " * (m.end(1) - m.start(1)) + s[m.end(1):]
    found.sort()
    return s, [t for _, t in found]


def _fashion_classes(s: str) -> list[int]:
    s = re.sub(r"\btop[\s-]*\d+\b", lambda m: " " * len(m.group(0)), s)  # "top-1 accuracy" is not T-shirt/top
    hits: list[tuple[int, int]] = []
    for cid, pattern in _FASHION_CLASSES:
        for m in re.finditer(pattern, s):
            hits.append((m.start(), cid))
    return _ordered_unique(hits)


def _digit_classes(s: str) -> list[int]:
    # Blank out things whose digits are not classes: sizes like 28x28, decimals, percentages, "1d", seeds,
    # counts like "10 classes" / "2-way".
    for pattern in (
        r"\b\d+\s*[x×]\s*\d+\b", r"\d+(?:\.\d+)?\s*%", r"\d+\.\d+", r"mnist[\s_-]*1[\s-]*d\b", r"\b1[\s-]?d\b",
        r"\b\w+[\s-]+(?:class(?:es)?|way)\b", r"\bseed\s*\d+", _COUNTS,
    ):
        s = re.sub(pattern, lambda m: " " * len(m.group(0)), s)
    hits: list[tuple[int, int]] = []
    taken = [False] * len(s)
    for m in re.finditer(r"\b(\d+)\s*(?:to|through|thru)\s*(\d+)\b", s):
        if max(int(m.group(1)), int(m.group(2))) > 9:  # else "0 to 12" would read as classes 0 and 1
            raise TaskError(f"digit range {m.group(0)!r} goes past 9; the classes are the digits 0 to 9")
    for m in re.finditer(r"\b(\d)\s*(?:-|to|through|thru)\s*(\d)(?:'?s)?\b", s):
        a, b = int(m.group(1)), int(m.group(2))
        if a > b:
            raise TaskError(f"digit range {m.group(0)!r} runs backwards; write it as {b} to {a}")
        hits += [(m.start() + i, c) for i, c in enumerate(range(a, b + 1))]
        taken[m.start(): m.end()] = [True] * (m.end() - m.start())
    for m in re.finditer(r"\b(\d)(?:'?s)?\b", s):
        if not taken[m.start()]:
            hits.append((m.start(), int(m.group(1))))
    for m in re.finditer(r"\b(" + "|".join(_PLURAL_WORDS) + r")\b", s):
        hits.append((m.start(), _PLURAL_WORDS[m.group(1)]))
    classes = _ordered_unique(hits)
    if not classes:
        if re.search(r"\beven\b", s):
            classes = [0, 2, 4, 6, 8]
        elif re.search(r"\bodd\b", s):
            classes = [1, 3, 5, 7, 9]
    return classes


def _ordered_unique(hits: list[tuple[int, int]]) -> list[int]:
    out: list[int] = []
    for _, c in sorted(hits):
        if c not in out:
            out.append(c)
    return out


def _class_list(classes: list[int]) -> str:
    """``[0, 1, 2, 3, 7]`` -> ``"0-3,7"`` (ascending runs of 3 or more become ranges)."""
    items: list[str] = []
    i = 0
    while i < len(classes):
        j = i
        while j + 1 < len(classes) and classes[j + 1] == classes[j] + 1:
            j += 1
        if j - i >= 2:
            items.append(f"{classes[i]}-{classes[j]}")
        else:
            items += [str(c) for c in classes[i : j + 1]]
        i = j + 1
    return ",".join(items)


def text_to_spec(text: str) -> str:
    """The task name that :func:`parse` would load for ``text`` (no data is loaded)."""
    if not isinstance(text, str):
        raise TaskError(f"parse needs a string, got {type(text).__name__}; it understands {UNDERSTOOD}")
    stripped = text.strip()
    if not stripped:
        raise TaskError(f"empty task description; it understands {UNDERSTOOD}")
    single_token = not re.search(r"\s", stripped)
    try:
        return parse_spec(stripped).canonical
    except TaskError as e:
        if "[" in stripped or "+" in stripped or (single_token and "(" in stripped):
            raise
        grammar_error = e
    s, transforms = _take_transforms(_normalise(stripped))
    if m := _AMBIGUOUS_SHUFFLE.search(s):
        raise TaskError(
            f"{text!r} says {m.group(0)!r} but not what: write '{m.group(0)} pixels' (+permute(SEED)) or "
            f"'{m.group(0)} labels' (+relabel(SEED)), optionally followed by 'seed N'"
        )
    if m := _OTHER_DATA_SETS.search(s):
        word = m.group(1)
        close = difflib.get_close_matches(word, BASE_NAMES, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise TaskError(
            f"unknown data set {word!r} in {text!r}{hint}; available: {', '.join(BASE_NAMES)}; "
            f"parse() understands {UNDERSTOOD}"
        )

    fashion_hits = _fashion_classes(s)
    digit_hits: list[int] | None = None
    if re.search(_FASHION_WORDS, s):
        base = "fashion-mnist"
    elif re.search(_MNIST1D_WORDS, s):
        base = "mnist1d"
    elif re.search(_DIGITS_WORDS, s):
        base = "digits"
    elif re.search(_MNIST_WORDS, s):
        base = "mnist"
    elif fashion_hits:
        base = "fashion-mnist"
    else:
        digit_hits = _digit_classes(s)
        if not digit_hits:
            hint = f" ({grammar_error})" if single_token else ""
            raise TaskError(f"could not tell which task {text!r} describes{hint}; parse() understands {UNDERSTOOD}")
        base = "mnist"

    def classes_in(part: str) -> list[int]:
        if base == "fashion-mnist":
            return _fashion_classes(part) or _digit_classes(part)
        return _digit_classes(part)

    exclude = _EXCLUDE.search(s)
    if exclude is None:
        classes = classes_in(s)
    else:  # "mnist 0 to 4 except 2": classes before the exclusion (all if none) minus the ones after it
        classes = classes_in(s[: exclude.start()])
        dropped = classes_in(s[exclude.end():])
        if dropped:
            classes = [c for c in classes or range(len(CLASS_NAMES[base])) if c not in dropped]
            if len(classes) < 2:
                raise TaskError(
                    f"{text!r} leaves {len(classes)} class(es) of {base} after excluding {dropped}; "
                    "a task needs at least 2"
                )
    if len(classes) == 1:
        raise TaskError(
            f"{text!r} names only one class; a task needs at least 2, e.g. 'digits 3 and 8' or "
            "'sneakers and boots'"
        )
    spec = base + (f"[{_class_list(classes)}]" if classes else "")
    spec += "".join(f"+{t}" for t in transforms)
    return parse_spec(spec).canonical


def parse(text: str | Task) -> Task:
    """The task described by ``text`` (free English, or a task name); a ``Task`` is returned unchanged.

    Rule-based (see the module docstring). Unknown text raises TaskError listing what is understood.
    """
    if isinstance(text, Task):
        return text
    return get(text_to_spec(text))
