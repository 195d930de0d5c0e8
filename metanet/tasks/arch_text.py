"""Architecture words in a text spec: ``"a 2-layer MLP with 128 units for mnist"`` -> ``mlp:784-128-10:relu``.

:func:`arch_words` reads the parts of a network a text names; :func:`arch_from_words` completes them for a task
(input shape, class count) with the same defaults :func:`metanet.generate` uses. What is read:

- family: "MLP", "multilayer perceptron", "fully connected", "feed-forward" -> ``mlp``; "CNN", "convnet",
  "convolutional", "conv layers" -> ``cnn``. Families metanet does not write ("transformer", "resnet-50", "lstm",
  "vgg16", ...) and models that are no network ("decision tree", "SVM", "an ensemble") are an ArchError naming
  the two it writes.
- depth: "N-layer MLP", "an MLP with N layers", "N linear / dense / fully connected layers", "depth N" count the
  network's weight layers (Linear or Conv2d, the output layer included: :attr:`~metanet.nets.Arch.num_layers`), so a
  "2-layer MLP" is ``mlp:784-64-10`` (one hidden layer) and a "3-layer CNN" has 2 conv layers and its linear head;
  "N hidden layers", "N conv layers" count the hidden ones ("one hidden layer", "a single hidden layer": 1; "no
  hidden layer", "logistic regression", "a linear classifier": an mlp of none).
- width: "N units" / "neurons" / "hidden units" / "channels" / "filters", "width N", "N wide", "hidden size N"
  (every hidden layer), "hidden layers of N", "layers of 64 and 32 (units)", "16 and 32 filters", "hidden sizes
  128, 64" (one width per hidden layer, in order),
  or all the widths at once, "784-128-10" (input, hidden..., classes).
- activation: relu, tanh, gelu, silu (or "swish"), sigmoid, "leaky relu"; another one ("elu", "mish") is an error.
- "residual" / "skip connections" (mlp), "no bias"; for a CNN "kernel (size) N" / "NxN kernels", "stride N".

"small", "tiny", "simple", "deep" and the like are ignored: they name no size. Parts not named take the defaults:
an mlp of 1 hidden layer of 64 units (:meth:`~metanet.nets.Arch.default_for`), a cnn of 2 conv layers of 32
channels (kernel 3, stride 2), relu. At most :data:`MAX_HIDDEN` hidden layers are read from a text.
"""

from __future__ import annotations

import math
import re
from typing import Any

from metanet.errors import ArchError
from metanet.nets.arch import Arch

__all__ = ["arch_words", "arch_from_words", "check_arch_words", "blank_arch_words", "training_words", "MAX_HIDDEN"]

#: the most hidden layers a text may ask for ("a 1000000000-layer MLP" would build a tuple of that many widths)
MAX_HIDDEN = 100
_CNN_WIDTH = 32  # channels of every conv layer of a cnn whose width the text does not say
_CNN_HIDDEN = 2
_SUPPORTED = ("metanet writes two families: mlp (e.g. 'a 2-layer MLP with 128 units') and cnn (e.g. 'a CNN with 2 "
              "conv layers of 32 channels'), i.e. Arch strings such as mlp:784-128-10:relu or "
              "cnn:1-32-32-10:relu:k3:s2")
_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
          "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty")
_NUM = r"(\d+|" + "|".join(_WORDS) + r")"
_UNITS = r"(?:hidden[\s-]+)?(?:units?|neurons?|nodes?|channels?|filters?|feature[\s-]+maps?)"
_LIST = r"(\d+(?:\s*(?:,\s*)?(?:and|&|,)\s*\d+)*)\b"
# before "units" / "filters" a list must end in "and N" ("16 and 32 filters"): "mnist 3 and 8, 64 units" is one width
_AND_LIST = r"(\d+(?:(?:\s*,\s*\d+){0,8}\s*(?:,\s*)?(?:and|&)\s*\d+)?)"  # bounded: linear on "1, 1, 1, ..."

_UNSUPPORTED = re.compile(
    r"\b(transformers?|vits?|vision[\s-]+transformers?|self[\s-]+attention|attention[\s-]+(?:networks?|models?|layers?"
    r"|heads?)|res[\s-]?nets?(?:[\s-]*\d+)?"
    r"|wide[\s-]+resnets?|vgg(?:[\s-]*\d+)?|alex[\s-]?nets?|le[\s-]?nets?(?:[\s-]*\d+)?|lstms?|grus?|rnns?|recurrent"
    r"|mobile[\s-]?nets?(?:[\s-]*v?\d+)?|efficient[\s-]?nets?(?:[\s-]*\w\d)?|dense-?nets?(?:[\s-]*\d+)?"
    r"|inception(?:[\s-]*v?\d+)?|u[\s-]?nets?|auto[\s-]?encoders?|gans?|gnns?|graph[\s-]+neural[\s-]+networks?"
    r"|mlp[\s-]+mixers?|capsule[\s-]+(?:networks?|nets?)|kans?|mamba|state[\s-]+space[\s-]+models?"
    # no neural network at all: writing an mlp for these would ignore the request
    r"|decision[\s-]+trees?|random[\s-]+forests?|svms?|support[\s-]+vector[\s-]+(?:machines?|classifiers?)"
    r"|(?:gradient[\s-]+)?boost(?:ed|ing)[\s-]+trees?|gradient[\s-]+boosting|xgboost|k[\s-]?nn"
    r"|nearest[\s-]+neighbou?rs?"
    r"|naive[\s-]+bayes|ensembles?(?:[\s-]+of[\s-]+\w+)?)\b"
)
_CNN = re.compile(r"\b(cnns?|conv[\s-]?nets?|conv(?:olution(?:al)?|olutions|s)?)\b")
_MLP = re.compile(r"\b(mlps?|multi[\s-]?layer(?:ed)?[\s-]+perceptrons?|perceptrons?|fully[\s-]+connected"
                  r"|feed[\s-]?forward|dense[\s-]+(?:networks?|nets?|nn|models?|classifiers?))\b")
# "N-layer", "N hidden layers", "N conv layers", "N fully connected layers"; "one hidden layer", "a single hidden layer"
_LAYERS = re.compile(
    r"\b(?:" + _NUM + r"|(?P<single>(?:a|one)(?:\s+single)?|single))[\s-]*(?:(?P<kind>hidden|conv\w*|dense|linear"
    r"|fully[\s-]+connected|fc)[\s-]*)?layers?\b")  # each run of spaces read one way: linear in its length
_DEPTH = re.compile(r"\bdepth\s*(?:of\s+|[=:]\s*)?(\d+)\b")
_NO_HIDDEN = re.compile(r"\bno\s+hidden\s+layers?\b")
_LINEAR_MODEL = re.compile(r"\b(?:logistic|softmax)\s+regression\b|\blinear\s+(?:classifier|model)s?\b"  # mlp:IN-K
                           r"|\bsingle[\s-]+layer(?:ed)?[\s-]+perceptrons?\b")
# digits only: "three channels", "one channel" describe input images; "3-channel images", "1 channel mnist" too (not
# a layer's width). Plural "hidden sizes 128, 64" and "16 and 32 filters" are one width per hidden layer.
_WIDTH = re.compile(r"\b" + _AND_LIST + r"[\s-]*" + _UNITS + r"\b(?![\s-]+(?:images?|inputs?|pictures?|photos?|data"
                    r"|mnist|fashion|digits|mnist1d|gr[ae]y\w*|colou?r\w*|rgb|\d+\s*[x×]\s*\d+)\b)"
                    r"|\b(?:widths|hidden[\s_-]*(?:sizes|dim(?:ension)?s|widths)|(?<!of\s)hidden[\s-]+layers)"
                    r"\s*(?:of\s+|[=:]\s*)?"
                    + _LIST +
                    r"|\b(?:width|hidden[\s_-]*(?:size|dim(?:ension)?|width))\s*(?:of\s+|[=:]\s*)?(\d+)\b"
                    r"|\b(\d+)[\s-]+wide\b")
_WIDTH_LIST = re.compile(r"\blayers?\s+(?:of|with)\s+(?:(?:sizes?|widths?)\s+(?:of\s+)?)?" + _LIST
                         + r"(?:\s*" + _UNITS + r"\b)?")
_FULL = re.compile(r"\b(\d+(?:-\d+){2,})\b")
_ACTIVATIONS = {"relu": "relu", "tanh": "tanh", "gelu": "gelu", "silu": "silu", "swish": "silu", "sigmoid": "sigmoid"}
_LABELS = {"family": "families", "hidden_layers": "depths", "widths": "widths", "full": "widths",
           "activation": "activations", "kernel": "kernel sizes", "stride": "strides"}
_ACTIVATION = re.compile(r"\b(leaky[\s_-]?relu|relu|tanh|gelu|silu|swish|sigmoid)\b")
_OTHER_ACTIVATION = re.compile(r"\b(elu|selu|celu|prelu|rrelu|relu6|softplus|softsign|mish|hard[\s-]?(?:swish|tanh"
                               r"|sigmoid)|glu|swiglu|maxout)\b")
_SKIPS = re.compile(r"\b(?:residual|skip[\s-]+connections?|skips)\b")
_NO_BIAS = re.compile(r"\b(?:no|without)\s+bias(?:es)?\b|\bbias[\s-]*free\b|\bnobias\b")
_KERNEL = re.compile(r"\bkernel(?:[\s_-]*size)?\s*(?:of\s+|[=:]\s*)?(\d+)(?:\s*[x×]\s*(\d+))?\b"
                     r"|\b(\d+)\s*[x×]\s*(\d+)\s*(?:conv\w*\s+)?(?:kernels?|filters?|convs?|convolutions?)\b")
_STRIDE = re.compile(r"\bstrides?\s*(?:of\s+|[=:]\s*)?(\d+)\b")


def _number(word: str) -> int:
    if word in _WORDS:
        return _WORDS.index(word)
    if len(word) > 10:  # a text of thousands of digits: no int() of it (nor a tuple that long)
        raise ArchError(f"the architecture number {word[:20]}... is too large")
    return int(word)


def _normal(text: str) -> str:
    return text.lower().replace("\u2013", "-").replace("\u2014", "-")


def blank_arch_words(s: str) -> str:
    """``s`` with the numbers that say an architecture ("hidden layers of 32", "layers of 64 and 32 units", "kernel
    size 5", "resnet-50") blanked (same length), so the task parser does not read them as classes. Never raises."""
    for pattern in (_WIDTH_LIST, _WIDTH, _KERNEL, _STRIDE, _DEPTH, _UNSUPPORTED):
        # the digits only: "2 layers of 128 units" keeps "layers", so the task parser does not take the 2 as a class
        s = pattern.sub(lambda m: re.sub(r"\d", " ", m.group(0)), s)
    return s


def _once(found: dict[str, Any], key: str, value: Any, said: str, text: str) -> None:
    """Record ``value`` under ``key``; a second, different one is an error (the last one must not win silently)."""
    if key in found and found[key][0] != value:
        raise ArchError(f"{text!r} asks for two different {_LABELS[key]}: {found[key][1]!r} and {said!r}; say one")
    found.setdefault(key, (value, said))


def arch_words(text: str) -> dict[str, Any] | None:
    """The parts of a network that ``text`` names, or None when it names none.

    Keys (each only when named): ``family`` ("mlp" / "cnn"), ``hidden_layers`` (hidden layer count: "N-layer"
    counts weight layers, so it is N - 1), ``widths`` (a tuple: one width for every hidden layer, or one per hidden
    layer), ``full`` (all widths, "784-128-10"), ``activation``, ``skips``, ``bias``, ``kernel``, ``stride``.

    Raises:
        ArchError: a family or activation metanet does not write, two different values for one part ("a CNN ...
            MLP", "2-layer ... 3 hidden layers"), or more than :data:`MAX_HIDDEN` hidden layers.
    """
    if not isinstance(text, str):
        return None
    s = _normal(text)
    if m := _UNSUPPORTED.search(s):
        raise ArchError(f"{text!r}: {m.group(0)!r} is no architecture metanet writes; {_SUPPORTED}")
    if m := _OTHER_ACTIVATION.search(s):
        raise ArchError(f"{text!r}: activation {m.group(0)!r} is not supported; valid: relu, tanh, gelu, silu "
                        "(swish), sigmoid, leaky relu")
    found: dict[str, tuple[Any, str]] = {}
    for pattern, family in ((_MLP, "mlp"), (_CNN, "cnn")):
        for m in pattern.finditer(s):
            _once(found, "family", family, m.group(0), text)
    widths = [m for m in _WIDTH_LIST.finditer(s)]
    taken = [m.span() for m in widths]
    for m in widths:
        _once(found, "widths", tuple(_number(n) for n in re.findall(r"\d+", m.group(1))), m.group(0), text)
    for m in _WIDTH.finditer(s):
        if any(a <= m.start() < b for a, b in taken):
            continue
        _once(found, "widths", tuple(map(_number, re.findall(r"\d+", next(g for g in m.groups() if g)))), m.group(0),
              text)
    for m in _LAYERS.finditer(s):
        n = 1 if m.group("single") else _number(m.group(1))
        kind = re.sub(r"[\s-]+", " ", m.group("kind") or "")
        if kind.startswith("conv"):
            _once(found, "family", "cnn", m.group(0), text)
        elif kind in ("dense", "linear", "fully connected", "fc"):
            _once(found, "family", "mlp", m.group(0), text)
        if m.group("single") and kind != "hidden":
            continue  # "a layer", "one layer of 64": no depth said
        hidden = n if kind == "hidden" or kind.startswith("conv") else n - 1
        if hidden < 0:
            raise ArchError(f"{text!r}: {m.group(0)!r} has no layer; a network has at least its output layer")
        _once(found, "hidden_layers", hidden, m.group(0), text)
    for m in _DEPTH.finditer(s):
        _once(found, "hidden_layers", _number(m.group(1)) - 1, m.group(0), text)
    if m := _NO_HIDDEN.search(s):
        _once(found, "hidden_layers", 0, m.group(0), text)
    if m := _LINEAR_MODEL.search(s):
        _once(found, "family", "mlp", m.group(0), text)
        _once(found, "hidden_layers", 0, m.group(0), text)
    if m := _FULL.search(s):
        if re.search(r"\d\d", m.group(1)):  # as the task parser: "0-4" is a range of classes
            _once(found, "full", tuple(_number(n) for n in m.group(1).split("-")), m.group(0), text)
    for m in _ACTIVATION.finditer(s):
        name = "leaky_relu" if m.group(1).startswith("leaky") else _ACTIVATIONS[m.group(1)]
        _once(found, "activation", name, m.group(0), text)
    if m := _SKIPS.search(s):
        found["skips"] = (True, m.group(0))
    if m := _NO_BIAS.search(s):
        found["bias"] = (False, m.group(0))
    for m in _KERNEL.finditer(s):
        side, other = m.group(1) or m.group(3), m.group(2) or m.group(4)  # "kernel 5", "kernel 5x5", "5x5 kernels"
        if other and other != side:
            raise ArchError(f"{text!r}: {m.group(0)!r}: metanet's convolutions have square kernels; give one size")
        _once(found, "kernel", _number(side), m.group(0), text)
    for m in _STRIDE.finditer(s):
        _once(found, "stride", _number(m.group(1)), m.group(0), text)
    if not found:
        return None
    if found.get("hidden_layers", (0,))[0] > MAX_HIDDEN:
        raise ArchError(f"{text!r}: {found['hidden_layers'][1]!r} asks for {found['hidden_layers'][0]} hidden layers; "
                        f"at most {MAX_HIDDEN} are read from a text (give arch= for more)")
    return {key: value for key, (value, _) in found.items()}


def arch_from_words(words: dict[str, Any], input_shape: tuple[int, ...], num_classes: int) -> Arch:
    """The :class:`~metanet.nets.Arch` that ``words`` (:func:`arch_words`) name for a task of ``input_shape`` and
    ``num_classes``: the parts not named take the module docstring's defaults. Raises ArchError when the parts
    disagree ("3 hidden layers of 64 and 32") or name no valid architecture."""
    family = words.get("family", "mlp")
    hidden_n = words.get("hidden_layers")
    widths = words.get("widths")
    if "full" in words:
        full = words["full"]
        if widths is not None and tuple(widths) not in (full[1:-1], full[1:2]):
            raise ArchError(f"the widths {'-'.join(map(str, full))} and the hidden widths {list(widths)} of the text "
                            "disagree; give them once")
        widths = full[1:-1]
    if hidden_n is None:
        hidden_n = len(widths) if widths is not None and len(widths) > 1 else _CNN_HIDDEN if family == "cnn" else 1
    if widths is not None and len(widths) > 1 and len(widths) != hidden_n:
        raise ArchError(f"the text names {hidden_n} hidden layer{'s' * (hidden_n != 1)} but {len(widths)} widths "
                        f"({', '.join(map(str, widths))}); give one width for every hidden layer, or one for all")
    if widths is not None and hidden_n == 0:
        raise ArchError(f"the text names widths ({', '.join(map(str, widths))}) but no hidden layer; a 1-layer "
                        "network is its output layer alone: ask for a 2-layer one or drop the widths")
    if widths is None:
        widths = (_CNN_WIDTH if family == "cnn" else 64,)
    hidden = tuple(widths) if len(widths) == hidden_n else tuple(widths) * hidden_n
    if family == "cnn":
        if hidden_n == 0:
            raise ArchError("a cnn needs at least one conv layer (metanet's cnn is conv layers, a global average pool "
                            "and one linear layer): ask for '1 conv layer' or a '2-layer CNN' or more")
        first = input_shape[0] if len(input_shape) == 3 else 1  # else generate names the shapes that fit
    else:
        first = math.prod(input_shape)
    kw = {k: words[k] for k in ("activation", "skips", "bias", "kernel", "stride") if k in words}
    if family == "mlp" and ("kernel" in kw or "stride" in kw):
        raise ArchError("a kernel size or stride applies to a cnn only, not to an mlp; ask for a CNN or drop them")
    arch = Arch(family, (first, *hidden, num_classes), **kw)
    if "full" in words and words["full"] != arch.widths:
        want = "-".join(map(str, words["full"]))
        raise ArchError(f"the widths {want} do not fit the task: its inputs have shape {tuple(input_shape)} and it "
                        f"has {num_classes} classes; e.g. {arch}")
    return arch


# training settings a text may name: the writer writes weights in one pass, with no training run to apply them to
_TRAINING = re.compile(
    r"\b(?:\d+|" + "|".join(_WORDS) + r")\s+(?:training\s+)?epochs?\b|\bepochs?\s*[=:]?\s*\d+\b"
    r"|\bbatch[\s_-]*size\s*(?:of\s+|[=:]\s*)?\d+\b|\b(?:lr|learning[\s_-]+rate)\s*(?:of\s+|[=:]\s*)?[\d.]+(?:e-?\d+)?\b"
    r"|\bdropout(?:\s*(?:of\s+|[=:]\s*)?[\d.]+)?\b|\bweight[\s_-]+decay\b|\b(?:adam|adamw|sgd|momentum)\b"
    r"|\b(?:batch|layer)[\s_-]?norm(?:alization|alisation)?\b")


def training_words(text: str) -> list[str]:
    """The training settings ``text`` names ("10 epochs", "lr 1e-3", "batch size 64", "dropout", "adam", "batch
    norm"), which :func:`metanet.generate` cannot honour: its writer writes every weight in one pass, with no
    training run (0 gradient steps) and no such layers, so it warns that they are ignored."""
    if not isinstance(text, str):
        return []
    return [m.group(0) for m in _TRAINING.finditer(_normal(text))]


def check_arch_words(words: dict[str, Any], arch: Arch) -> None:
    """An ArchError naming both when the ``arch`` given to generate is not the one the text's ``words``
    (:func:`arch_words`) ask for; only the parts the text names are compared."""
    def agrees(key: str, value: Any) -> bool:
        if key == "widths":  # one width for every hidden layer, or one per layer
            return tuple(value) == arch.hidden or (len(value) == 1 and set(arch.hidden) == set(value))
        if key == "hidden_layers":
            return value == len(arch.hidden)
        if key == "full":
            return tuple(value) == arch.widths
        if key in ("kernel", "stride") and arch.family != "cnn":
            return False
        return getattr(arch, key) == value

    differ = [_said(key, value) for key, value in words.items() if not agrees(key, value)]
    if differ:
        raise ArchError(f"the text asks for {', '.join(differ)}, but arch is {str(arch)!r}; give the architecture "
                        "once: in the text or as arch")


def _said(key: str, value: Any) -> str:
    """How the text said one part of a network, for an error message."""
    if key in ("widths", "full"):
        return ("hidden widths " if key == "widths" else "widths ") + "-".join(map(str, value))
    return {"family": f"a {value}", "hidden_layers": f"{value} hidden layer{'s' * (value != 1)}",
            "activation": f"{value} activations", "skips": "residual skips", "bias": "no bias"}.get(
                key, f"{key} {value}")
