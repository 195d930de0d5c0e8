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
- width: "N units" / "neurons" / "hidden units" / "channels" / "filters", "width N", "N wide", "hidden (layer) size N",
  "hidden N" (every hidden layer), "hidden layers of N", "layers of 64 and 32 (units)", "16 and 32 filters", "16/32
  channels", "16-32 channels", "128-64 hidden units", "hidden 32 and 16", "hidden 32/16", "hidden 32 -> 16"
  (numbers no class has; "hidden 32, 16 and 8",
  "hidden 32/16/8", "hidden 32 -> 16 -> 8", "hidden 32 16 8 4" (spaced digits each at most half the one before),
  "channels 16, 32"; not a number before a word it counts: "hidden 3 classes", "hidden 32
  epochs", "hidden 32%"), "hidden sizes 128, 64", "widths 128 then 64",
  "hidden_sizes=[128, 64]", "hidden layers 128 -> 64" (one width per hidden layer, in order; a list ends before
  numbers that count something else: "layers of 64, 2-3 epochs" is one width),
  or all the widths at once, "784-128-10", "784 -> 128 -> 10" (input, hidden..., classes). A list that may hold
  either ("an MLP [256, 128]", "mlp 128/64", "mlp 128-64", "layers: 784, 128, 10", "a 32-16 MLP") is all the
  widths when it starts at the task's input size and ends at its class count, the hidden ones when it does neither,
  and an error when one end alone fits.
  Repeats: "3x64 hidden", "an MLP 3x64", "64 units x 2 layers", "hidden 64 x 2", "hidden 2 x 64" are that many hidden
  layers of that width; so is "2 hidden 64" ("with 3 hidden = 64") when its digit ends no class list ("mnist 3 vs 8
  hidden 32": the class 8, width 32).
  A width after a class list leaves the classes to the task: "mnist 3/8 64 units" is ``mnist[3,8]`` with 64 units,
  "mnist 3 to 8 then 64 units" ``mnist[3-8]`` with 64. Single digits before a unit word that may be classes ("mnist
  3/8 channels", "0-4 units"), widths with a fraction ("hidden 32.5", "32.5 units"), numbers spaced before a unit
  word ("16 32 64 channels": write "16, 32, 64 channels") and a size after one ("channels 28 by 28") are errors.
- activation: relu, tanh, gelu, silu (or "swish"), sigmoid, "leaky relu"; another one ("elu", "mish") is an error.
- "residual" / "skip connections" (mlp), "no bias"; for a CNN "kernel (size) N" / "NxN kernels", "stride N". A text
  that names no family but channels, filters, feature maps, a kernel or a stride asks for a cnn ("16/32 filters").

A word said not to be wanted ("no cnn", "not a transformer", "a cnn rather than an mlp", "tanh, not relu", "no skip
connections") asks for nothing, and is checked against ``arch=`` (a refused family leaves the other one: "no mlp"
writes a cnn); one asked about and answered no is refused unless
the answer asks for it again ("a tanh mlp? no, a relu mlp" is a relu mlp, "a tanh cnn? no, a relu one" a relu cnn:
its "one" is the family asked about; "a cnn? no thanks", "a cnn? no, a relu one" refuse the cnn); a range ("2 or
3 layers", "at least 3 layers", "64 or 128 units") is an error asking for one; a dash down to a smaller number is
none ("mnist 3 vs 8 - 2 layers"), two such are an error ("8 - 2 - 1 layers"). "small", "tiny", "simple", "deep"
and the like are ignored: they name no size. Parts not named take the defaults: an mlp of 1 hidden layer of 64 units
(:meth:`~metanet.nets.Arch.default_for`), a cnn of 2 conv layers of 32 channels (kernel 3, stride 2), relu. At most :data:`MAX_HIDDEN` hidden layers are read from a text.
"""

from __future__ import annotations

import math
import re
from typing import Any

from metanet.errors import ArchError
from metanet.nets.arch import Arch

__all__ = ["arch_words", "arch_from_words", "check_arch_words", "check_width_numbers", "blank_arch_words",
           "training_words", "MAX_HIDDEN"]

#: the most hidden layers a text may ask for ("a 1000000000-layer MLP" would build a tuple of that many widths)
MAX_HIDDEN = 100
_CNN_WIDTH = 32  # channels of every conv layer of a cnn whose width the text does not say
_CNN_HIDDEN = 2
_SUPPORTED = ("metanet writes two families: mlp (e.g. 'a 2-layer MLP with 128 units') and cnn (e.g. 'a CNN with 2 "
              "conv layers of 32 channels'), i.e. Arch strings such as mlp:784-128-10:relu or "
              "cnn:1-32-32-10:relu:k3:s2")
#: the number words read, by value (the task parser reads the first ten as classes, "ten" as a class count)
NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
                "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty")
# The words that say a thing is not wanted, spelled once: every negation the text readers look for builds on them
# (network words here, a task's transforms and the ones no task has in parse.py), so a word added here is read by all
_NEGATION_WORDS = r"no|not|non|without|never|neither|nor|rather\s+than|instead\s+of"


def negation(*more: str) -> str:
    """A regex (one group, not capturing) of the words that say a thing is not wanted: "no", "not", "non", "without",
    "never", "neither", "nor", "rather than", "instead of", "...n't", "cannot", and the regexes ``more``, each read
    from the start of a word ("un" for "un-inverted")."""
    return r"(?:\b(?:" + "|".join((_NEGATION_WORDS, *more)) + r")|n't|\bcannot)"


_NUM = r"(\d+|" + "|".join(NUMBER_WORDS) + r")"
_UNITS = r"(?:(?:hidden[\s-]+)?(?:units?|neurons?|nodes?|channels?|filters?|feature[\s-]+maps?)|output[\s-]+channels?)"
_ARROW = r"(?:\s*(?:->|→|=>)\s*|-)"  # "784-128-10", "784 -> 128 -> 10"
_LIST = r"(\d+(?:(?:\s*(?:,\s*)?(?:and|&|,|then)\s*|" + _ARROW + r")\d+)*)\b"  # "widths 128 then 64" too
# not the numbers of a list that count something else ("a layer with 1-2 epochs", "layers of 64, then 3 to 5 seconds",
# "2 hidden layers of 64, 90% accuracy": they were widths 1, 2; 64, 3 and 64, 90); no "and" before the count: "layers
# of 64, 32 and 5 epochs", "layers of 64 and 10 classes" end the list after the 32 and 64 (they were dropped)
_LIST += (r"(?!(?:\s*(?:-|to|or)\s*\d+)?(?:\s*\.\d|\s*%|[\s-]*(?:epochs?|seconds?|secs?|minutes?|mins?|hours?|hrs?"
          r"|ms|steps?|iterations?|runs?|trials?|examples?|samples?|shots?|images?|class(?:es)?|percent)\b))")
# "an mlp 128/64", "a 128/64 mlp": the numbers were classes ("classes 128, 64 ..."); whole runs only ("1/1/.../1 x":
# each shorter run tried from each number was quadratic)
_SLASHES = r"(?<![\d/])\d+(?:/\d+)+(?![\d/])"
# what joins two classes ("3 and 8", "3, 8", "3 vs 8"), each a lookbehind after a digit
_CLASS_JOINERS = (r",", r"&", r"/", r",\s", r"\s&", r"&\s", r"\s&\s", r"\sand\s", r"\sor\s", r"\svs\s",
                  r"\svs\.\s", r"\sv\s", r"\sversus\s", r"-", r"\sto\s", r"\sthrough\s", r"\sthru\s")
# before "units" / "filters" a list must end in "and N" ("16 and 32 filters"): "mnist 3 and 8, 64 units" is one width;
# or be of numbers no class has ("64, 32 hidden units"); or joined by slashes ("16/32 channels": it was 32 alone)
_AND_LIST = (r"(" + _SLASHES + r"|\d\d+(?:\s*,\s*\d\d+){1,8}(?:\s*(?:,\s*)?(?:and|&|then)\s*\d+)?"
             # "then" lists: no digit of a class list in them, "mnist 3 and 8 then 64 units", "mnist 3, 8 then 64
             # units" are one width (they were 8, 64 and 3, 8, 64)
             r"|(?:\d\d+|" + "".join(f"(?<!\\d{j})" for j in _CLASS_JOINERS) + r"\d)(?:\s*,\s*\d\d+){0,8}\s*(?:,\s*)?"
             r"then\s*\d+"
             r"|\d+(?:(?:\s*,\s*\d+){0,8}\s*(?:,\s*)?(?:and|&)\s*\d+)?)")  # bounded: linear on "1, 1, ..."

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
_DEPTH = re.compile(r"\bdepth(?:\s*(?:of\s+|[=:]\s*)?|-)(\d+)\b")
_NO_HIDDEN = re.compile(r"\bno\s+hidden\s+layers?\b")
_LINEAR_MODEL = re.compile(r"\b(?:logistic|softmax)\s+regression\b|\blinear\s+(?:classifier|model)s?\b"  # mlp:IN-K
                           r"|\bsingle[\s-]+layer(?:ed)?[\s-]+perceptrons?\b")
# after "hidden", a number before these words counts them ("hidden 3 classes", "hidden 50%"): no width
_COUNTED_NEXT = (r"[\s-]*(?:class(?:es)?|way|epochs?|examples?|samples?|shots?|steps?|seeds?|runs?|images?|pictures?"
                 r"|digits|layers?|percent)\b|\s*%")
# "hidden 32/16", "hidden 32 -> 16", "hidden 32-16" too (the 16 was a class, out of range)
# not a range before a count either: "hidden 64, 32 and 2-3 epochs" (its 2 was a third width)
_NOT_COUNTED = r"(?!(?:\s*(?:-|to|or)\s*\d+)?(?:" + _COUNTED_NEXT + r")|\s*\.\d)"
# Words that may stand between a number and what it counts ("10 warmup epochs", "3 more training runs"); the task
# parser reads the same ones, so the number is neither a width here nor a class there
COUNT_QUALIFIERS = (r"(?:(?:training|train|test|validation|labell?ed|random|extra|warm[\s-]?up|more|total"
                    r"|additional)[\s-]+){0,2}")
# "hidden 32 16", "hidden 32 x 16" too (not "hidden 2 x 64", which may be 2 layers of 64); a number after a space only
# is no width before a count with a word between either ("hidden 64 500 training images", "hidden 64 10 iterations")
# (or two words: "hidden 64 32 10 warmup epochs", "10 more training runs": the 10 was a third width)
# what a number may count (not a width, not a class)
_COUNT_NOUNS = (r"class(?:es)?|way|epochs?|examples?|samples?|shots?|steps?|seeds?|runs?|pictures?|digits"
                r"|iter(?:ation)?s?|trials?|folds?|minutes?|hours?|seconds?|labels?|outputs?|candidates?|networks?"
                r"|nets?|models?|heads?")
_SPACED_COUNT = r"(?!\d+[\s-]+" + COUNT_QUALIFIERS + r"(?:" + _COUNT_NOUNS + r"|images?|layers?)\b)"
# after any joiner: "hidden 64, 100 training examples", "hidden 64 -> 10 random seeds" (the count was a width)
_BARE_MORE = (r"(?:\s*,\s*(?:(?:and|then)\s+|&\s*)?|\s*&\s*|\s+(?:and|then)\s+|\s*/\s*|\s*(?:->|→|=>)\s*|-|\s+"
              r"|(?<=\d\d)\s*[x×]\s*)" + _SPACED_COUNT + r"\d\d+\b" + _NOT_COUNTED)
# ... and a last width of one digit after two or more ("hidden 32, 16 and 8": the 8 was the one class 8; "hidden 32, 3
# and 8" keeps its classes; "hidden 32/16/8", "hidden 32-16-8", "hidden 32 -> 16 -> 8" too)
_BARE_LAST = (r"(?:\s*,\s*(?:and|&)\s*|\s*&\s*|\s+and\s+|\s*/\s*|\s*(?:->|→|=>)\s*|-)" + _SPACED_COUNT + r"\d\b"
              + _NOT_COUNTED)
# ... or digits after spaces, each at most half the one before ("hidden 32 16 8 4" was classes 8 and 4: halving widths);
# after one width two or more ("hidden 16 8 4 2"); "hidden 64 32 3 8" keeps its classes, and so do digits a class list
# goes on from ("hidden 32 16 8 4 vs 9") and digits no halving widths are ("hidden 32 9 8", "hidden 64 32 8 0": classes)
# After two or more widths commas too ("hidden 32, 16, 8 and 4" was classes 8 and 4; "hidden 64, 32, 3 and 8" keeps them)
_DOWN_SEP = r"(?:\s*,\s*(?:and\s+|&\s*)?|\s*&\s*|\s+(?:and\s+)?)"
# a class list going on after a digit ("... 4 vs 9", "x 2 or 3"): that digit is a class, not a width or a depth
_CLASSES_GO_ON = r"\s*(?:[-/,&]\s*|(?:and|n?or|vs\.?|v|versus|to|through|thru|plus)\s+)?" + _SPACED_COUNT + r"\d"


# A number before "hidden" and a width ("3 hidden 64", "with 3 hidden = 64") counts hidden layers, here and in the task
# parser; the last of a list or range does not ("mnist 3 and 8 hidden = 32": a class, 8; "mnist 3 to 8 hidden = 32",
# "mnist 3 versus 8 hidden 32" were the one class 3)
HIDDEN_COUNT = (r"(?<![\d,&/]\s)(?<![\d,&/])(?<!\band\s)(?<!\bvs\s)(?<!\bor\s)(?<!\bto\s)(?<!\bthrough\s)(?<!\bthru\s)"
                # ... nor "hidden 32 epochs", "hidden 32%" (no width: "mnist 3 vs 8 hidden 32 epochs" was the one class
                # 3; the NULs are counts the task parser blanked before)
                r"(?<!\bvs\.\s)(?<!\bversus\s)(?<!\bplus\s)(?<!\bnor\s)(?<!\d-)"
                # ... nor the end of a spaced range ("mnist 0 - 4 hidden 32" was class 0); a dash down separates ("3 vs
                # 8 - 2 hidden 32" counts its 2)
                r"(?!" + "|".join(rf"(?<=\b[0-{d - 1}]\s-\s){d}\b" for d in range(1, 10)) + r")"
                r"\b\d+[\s-]*hidden(?=\s*[=:]|\s+[\d\0])")
_HIDDEN_COUNT = re.compile(HIDDEN_COUNT)
_AFTER_HIDDEN = re.compile(r"\s*(?:[=:]\s*)?")  # between "hidden" and its width
# the words a count of hidden layers may follow ("mnist 2 hidden 32", "with 3 hidden = 64", "a 2 hidden 64 mlp"); after
# another word the digit is that word's value ("seed 3 hidden 64", "batch size 8 hidden 64" were 3, 8 hidden layers)
_BEFORE_COUNT = re.compile(r"an?|then")


def _down(sep: str) -> tuple[str, str]:
    """A step (a digit with one at most its half and at least 2 next) and the run of steps and its last digit."""
    step = sep + r"(?:" + "|".join(rf"{d}(?={sep}[2-{d // 2}]\b)" for d in range(4, 10)) + ")"
    return step, (r"(?:" + step + r")*" + sep + _SPACED_COUNT + r"[2-9]\b" + _NOT_COUNTED
                  + r"(?!" + _CLASSES_GO_ON + r")")


_DOWN_STEP, _BARE_DOWN = _down(r"\s+")
_BARE_DOWN_LISTED = _down(_DOWN_SEP)[1]
# digits only: "three channels", "one channel" describe input images; "3-channel images", "1 channel mnist" too (not
# a layer's width), and so do "1 channel" / "3 channel" (grey, rgb) anywhere: "a 1-channel CNN" was a cnn of width 1.
# Plural "hidden sizes 128, 64", "hidden_sizes=[128, 64]" and "16 and 32 filters" are one width per hidden layer.
# not from a number's decimals ("python 3.11, 64 units", "lr 0.01, 64 units" were widths 11, 64 and 1, 64)
_WIDTH = re.compile(r"\b(?<!\d\.)(?![13][\s-]*channel\b)" + _AND_LIST + r"[\s-]*" + _UNITS
                    + r"\b(?![\s-]+(?:images?|inputs?|pictures?|photos?|data"
                    r"|mnist|fashion|digits|mnist1d|gr[ae]y\w*|colou?r\w*|rgb|\d+\s*[x×]\s*\d+)\b)"
                    r"|\b(?:widths|hidden[\s_-]*(?:layer[\s_-]*)?(?:sizes|dim(?:ension)?s|widths|units|neurons|nodes)"
                    r"|(?<!of\s)hidden[\s-]+layers|hidden(?=\s*[=:])"
                    r"|(?:conv[\s_-]*)?(?:channels|filters)(?=\s*(?:[=:]\s*)?[\[(]))\s*(?:of\s+|[=:]\s*)?[\[(]?\s*"
                    + _LIST + r"(?:\s*,?\s*[\])])?"
                    # "hidden layer size 64" too (the 64 was a class)
                    r"|\b(?:width|hidden[\s_-]*(?:layer[\s_-]*)?(?:size|dim(?:ension)?|width))(?:\s*(?:of\s+|[=:]\s*)?|-)"
                    r"(\d+)\b"
                    # "mnist, hidden 32" as "hidden = 32" (the 32 was a class); not "hidden 2 layers", a depth;
                    # "hidden 32 and 16", "hidden 128, 64": more widths of numbers no class has, not counts ("hidden
                    # 32, 3 and 8" keeps its classes, "hidden 32 and 10 classes" its class count)
                    # ... and "channels 16, 32", "filters=16 32" of numbers no class has (they were classes 16, 32)
                    r"|\b(?:hidden\s+|(?:conv[\s_-]*)?(?:channels|filters)\s*(?:[=:]\s*)?(?=\d\d))"
                    r"(?P<bare>\d+\b(?!" + _COUNTED_NEXT + r")(?:(?:" + _BARE_MORE + r")+(?:" + _BARE_LAST + "|"
                    + _BARE_DOWN_LISTED + r")?|(?<=\d\d)" + _DOWN_STEP + _BARE_DOWN + r")?)\b"
                    r"(?![\s-]*(?:(?:hidden|conv\w*|dense|linear|fully[\s-]+connected|fc)[\s-]*)?layers?\b)"
                    r"|\b(\d+)[\s-]+wide\b")
# a width with a fraction ("hidden 32.5", "width 32.5", "32.5 units"): its 5 was read as a class
# (not the "hidden units" of "32 hidden units 90.5% accuracy": a width said, then a score)
_FRACTION = re.compile(r"\b(?:widths?|hidden(?:[\s_-]*(?:layer[\s_-]*)?(?:sizes?|dim(?:ension)?s?|widths?))?"
                       r"|(?<!\d\s)(?<!\d-)hidden[\s_-]*(?:layer[\s_-]*)?units?)"
                       r"(?:\s*(?:of\s+|[=:]\s*)?|-)\d+\.\d+|\b\d+\.\d+[\s-]*" + _UNITS + r"\b")
_WIDTH_LIST = re.compile(r"\blayers?\s+(?:of|with)\s+(?:(?:sizes?|widths?)\s+(?:of\s+)?)?" + _LIST
                         + r"(?:\s*" + _UNITS + r"\b)?")
_FULL = re.compile(r"\b(\d+(?:" + _ARROW + r"\d+){2,})\b")
# Widths that may or may not include the input size and the class count ("an MLP [256, 128]", "a 32-16 MLP", "layers:
# 784, 128, 10"): arch_from_words reads them as all the widths when they start and end as the task does, else as the
# hidden ones. Two numbers joined by "-" (before a network word) or a list in brackets after one need a number of two
# digits or more: "digits 3-8 mlp", "a network (3, 8)" name classes.
_NET = (r"(?:mlps?|multi[\s-]?layer(?:ed)?[\s-]+perceptrons?|perceptrons?|cnns?|conv[\s-]?nets?"
        r"|(?:neural[\s-]+)?(?:networks?|nets?|models?))\b")
_BRACKETS = r"[\[(]\s*(\d+(?:(?:\s*,\s*|" + _ARROW + r")\d+)+)\s*,?\s*[\])]"
_SIZES = re.compile(r"\b(\d+" + _ARROW + r"\d+|" + _SLASHES + r")[\s-]*(?=" + _NET + r")|\b" + _NET + r"\s*(?:[=:]\s*)?"
                    + _BRACKETS
                    + r"|" + _BRACKETS + r"(?=[\s-]*" + _NET + ")"
                    + r"|\b(?:layers?|layer[\s_-]*sizes|architecture|arch)\s*(?:[=:]\s*)?" + _BRACKETS
                    + r"|\b(?:layers\s*[=:]|layer[\s_-]*sizes\s*[=:]?|architecture\s*[=:]?|arch\s*[=:])\s*"
                    r"(\d+(?:\s*,\s*\d+)+)\b|\b" + _NET + r"\s*(?:[=:]\s*)?(" + _SLASHES + r"|\d+" + _ARROW + r"\d+\b"
                    # "mlp 128-64" as "mlp 128/64" (it was an mlp of the default width, its numbers classes); not a
                    # count ("mlp 2-3 layers") nor the start of a longer list (all the widths, _FULL)
                    r"(?!" + _ARROW + r"\d|\s*\.\d|\s*%|[\s-]*(?:(?:hidden|conv\w*|dense|linear|fc)[\s-]*)?"
                    r"(?:layers?|epochs?|class(?:es)?|way)\b))\b")
# "3x64 hidden layers", "an MLP 2x128", "64 units x 2 (layers)", "2 hidden layers x 64 units": that many hidden layers
# of that width (they were dropped: the default MLP). Not "3x3 conv", "28x28 images".
_REPEAT = re.compile(
    r"\b(?P<n>\d+)\s*[x×]\s*(?P<w>\d+)(?=[\s-]*(?:hidden|units?|neurons?|nodes?|dense|linear|fc|layers?)\b)"
    r"|\bmlps?[\s:]*(?P<n2>\d+)\s*[x×]\s*(?P<w2>\d+)\b(?![\s-]*(?:images?|inputs?|pixels?|pictures?|photos?|mnist"
    r"|digits|fashion|kernels?|filters?|conv\w*|patch(?:es)?)\b)"
    r"|\b(?P<w3>\d+)[\s-]*(?:hidden[\s-]+)?(?:units?|neurons?|nodes?)\s*[x×*]\s*(?P<n3>\d+)\b"
    r"(?:[\s-]*(?:hidden[\s-]+)?layers?\b)?"
    r"|\b(?P<n4>\d+)[\s-]*(?:hidden[\s-]+)?layers?\s*[x×*]\s*(?P<w4>\d+)\b(?:[\s-]*(?:units?|neurons?|nodes?)\b)?"
    # "hidden 64 x 2": the one digit counts the layers, as in "64 units x 2" (the 2 was a class); not "hidden 32 x
    # 16", two widths; "hidden 2 x 64" too, as "2x64 hidden" (its 64 was a class, "hidden 2x64" the default mlp), not
    # "hidden 2 x 64 layers" (64 layers?)
    r"|\bhidden\s+(?:(?P<w5>\d\d+)\s*[x×*]\s*(?P<n5>\d)"
    r"|(?P<n6>\d)\s*[x×*]\s*(?P<w6>\d\d+)\b(?![\s-]*(?:hidden[\s-]+)?layers?\b))\b"
    r"(?![\s-]*(?:images?|pixels?|kernels?|filters?|channels?|conv\w*|patch(?:es)?)\b"
    # nor a count ("hidden 64 x 3 classes", "x 2 epochs": they were 3, 2 layers) nor a class list going on from a
    # digit ("x 2 or 3"; not from a width: "hidden 2 x 64, 3 and 8")
    r"|(?:\s*(?:-|to|or)\s*\d+)?[\s-]*" + COUNT_QUALIFIERS + r"(?:" + _COUNT_NOUNS + r"|percent)\b|\s*%|\s*\.\d"
    r"|(?<!\d\d)" + _CLASSES_GO_ON + r")"
    r"(?:[\s-]*(?:(?:hidden[\s-]+)?layers?|units?|neurons?|nodes?)\b)?")
_ACTIVATIONS = {"relu": "relu", "tanh": "tanh", "gelu": "gelu", "silu": "silu", "swish": "silu", "sigmoid": "sigmoid"}
_LABELS = {"family": "families", "hidden_layers": "depths", "widths": "widths", "full": "widths", "sizes": "widths",
           "activation": "activations", "kernel": "kernel sizes", "stride": "strides"}
_ACTIVATION = re.compile(r"\b(leaky[\s_-]?relu|relu|tanh|gelu|silu|swish|sigmoid)\b")
_OTHER_ACTIVATION = re.compile(r"\b(elu|selu|celu|prelu|rrelu|relu6|softplus|softsign|mish|hard[\s-]?(?:swish|tanh"
                               r"|sigmoid)|glu|swiglu|maxout)\b")
_SKIPS = re.compile(r"\b(?:residual|skip[\s-]+connections?|skips)\b")
_NO_BIAS = re.compile(r"\b(?:no|without)\s+bias(?:es)?\b|\bbias[\s-]*free\b|\bnobias\b")
_KERNEL = re.compile(r"\bkernel(?:[\s_-]*size)?\s*(?:of\s+|[=:]\s*)?(\d+)(?:\s*[x×]\s*(\d+))?\b"
                     r"|\b(\d+)\s*[x×]\s*(\d+)\s*(?:conv\w*\s+)?(?:kernels?|filters?|convs?|convolutions?)\b")
_STRIDE = re.compile(r"\bstrides?\s*(?:of\s+|[=:]\s*)?(\d+)\b")
_CNN_UNITS = re.compile(r"\b(?:channels?|filters?|feature[\s-]+maps?)\b")  # a width only a cnn's layers have
# A network word said not to be wanted ("no cnn", "not a transformer", "without an lstm", "a cnn rather than an mlp",
# "i don't want a 3-layer cnn", "non-convolutional", "tanh, not relu", "no skip connections") asks for nothing: it was
# the family written, or refused as two families or one metanet does not write. The words between the negation and
# the network word: articles, verbs of wanting, sizes ("not a 3-layer cnn but a 2-layer mlp").
_NEGATION = re.compile(
    negation(r"avoid(?:ing)?", r"but\s+not",
             r"(?P<other>other\s+than|except(?:\s+for)?|(?:any|every|all)(?:thing|one)?(?:\s+[a-z]+)?\s+but)")
    + r"(?:[\s-]+(?:a|an|the|any|some|use|using|want|need|like|be|is|it|to|of|for|with|deep|big|small"
    r"|large|tiny|simple|plain|vanilla|standard|fancy|shallow"
    r"|(?:\d+|" + "|".join(NUMBER_WORDS) + r")[\s-]*layer(?:s|ed)?)\b)*[\s-]*$")
# "no network other than a cnn", "nothing but tanh": the word is the one asked for
_NOTHING_BUT = re.compile(r"\b(?:no|not|nothing|none)\s+(?:[a-z]+\s+)?$")
_OR_NEGATED = re.compile(r"\s*(?:,\s*)?n?or\s+(?:(?:a|an|the|any)\s+)?")  # "no cnn or (an) lstm": both
# ... or after it: "a cnn? no, an mlp", "cnn not needed"
# ("a cnn? no thanks" as the task parser reads "inverted? no thanks": it was a cnn)
_NEGATED_AFTER = re.compile(r"\s*\?\s*(?:nope\b|no\b(?=\s*(?:[^\w\s]|$|thanks?\b)))"
                            r"|\s+(?:(?:is|are)\s+not|isn't|aren't|not)\s+"
                            r"(?:needed|necessary|required|wanted|allowed)\b")
# ... and the words of its phrase before it ("a 3-layer residual mlp? no"): sizes, other network words
_SIZE_WORDS = (r"(?:a|an|the|deep|big|small|large|tiny|simple|plain|vanilla|standard|fancy|shallow"
               r"|(?:\d+|" + "|".join(NUMBER_WORDS) + r")[\s-]*layer(?:s|ed)?)")
_PHRASE_GAP = re.compile(r"[\s-]*(?:" + _SIZE_WORDS + r"\b[\s-]*)*")
# "a relu one", "a 2-layer one"; not "not that one", "the other one", a number ("one hidden layer", "one of them") nor
# digits ("the ones and sevens")
_ONE = re.compile(r"(?<!\bnot\s)\b(?:a|an|the|that|this)\s+(?!(?:[\w-]+\s+){0,2}(?:other|different)\b)"
                  r"(?:[\w-]+\s+){0,3}?(ones?)\b(?![\s-]*(?:hidden|conv\w*|dense|linear|fully|fc|layers?|of)\b"
                  r"|(?<=s)\s*(?:[,&/]|(?:and|or|vs|versus)\b))")
_SIZE_BEFORE = re.compile(r"(?<![\w-])(?:" + _SIZE_WORDS + r"\b[\s-]*)*$")
_RELU = "relu"  # an Arch's activation when the text names none
# A range of depths or widths ("2 or 3 layers", "2-3 hidden layers", "at least 3 layers", "3+ layers", "64 or 128
# units"): metanet writes one network; the last number alone was read ("2 or 3 layers" was 2 hidden layers) or none
_RANGE = re.compile(
    r"(?:\b(?:at\s+(?:least|most)|up\s+to|(?:more|fewer|less)\s+than|over|under|above|below|max(?:imum)?|min(?:imum)?)"
    r"(?:\s+of)?\s+" + _NUM + r"|\bbetween\s+" + _NUM + r"\s*(?:and|&)\s*" + _NUM
    + r"|\b" + _NUM + r"\s*(?:(?:,\s*)?(?:or|to|through|thru)\b\s*" + _NUM + r"|\+|\s+(?:or|and)\s+(?:more|fewer|less"
    r"|above|below|over|under|up))"
    # "2 -> 4 layers" was 3 hidden layers; lo/hi: a pair running downwards is no range (:func:`_descending`)
    r"|\b(?P<lo>" + _NUM + r")\s*(?:-+>|=+>|→|[-/])\s*(?P<hi>" + _NUM + r")"
    + r"(?=[\s-]*(?:(?:hidden|conv\w*|dense|linear|fc)[\s-]*)?layers?\b))"
    r"[\s-]*(?P<tail>(?:(?:hidden|conv\w*|dense|linear|fully[\s-]+connected|fc)[\s-]*)?"
    r"(?P<what>layers?|(?:hidden[\s-]+)?(?:units?|neurons?|nodes?|channels?|filters?)))\b")


def _descending(m: re.Match) -> bool:
    """Whether the :data:`_RANGE` match ``m`` is a dash or arrow from a larger number to a smaller one ("mnist, 64 - 2
    layers"): a dash that separates two phrases, no range (it was refused as one, asking for 64 layers)."""
    return bool(m.group("lo")) and _number(m.group("lo")) >= _number(m.group("hi"))


_DASH_BEFORE = re.compile(_NUM + r"\s*(?:-+>|=+>|→|[-/])\s*$")


def _dashes_down(s: str, m: re.Match) -> bool:
    """Whether the descending :data:`_RANGE` match ``m`` follows another dash down ("mnist 3 vs 8 - 2 - 1 layers"):
    two depths, not a separator then a depth (not "3 - 8 - 2 layers", classes 3 to 8 then a depth)."""
    before = _DASH_BEFORE.search(s, max(0, m.start() - 30), m.start())
    return bool(before) and _number(before.group(1)) >= _number(m.group("lo"))


def _number(word: str) -> int:
    if word in NUMBER_WORDS:
        return NUMBER_WORDS.index(word)
    if len(word) > 10:  # a text of thousands of digits: no int() of it (nor a tuple that long)
        raise ArchError(f"the architecture number {word[:20]}... is too large")
    return int(word)


def _normal(text: str) -> str:
    return text.lower().replace("\u2013", "-").replace("\u2014", "-")


def _sizes_said(m: re.Match) -> str | None:
    """The numbers of a :data:`_SIZES` match, or None when they are no widths ("a network (3, 8)": classes)."""
    said = next(g for g in m.groups() if g)
    return None if (m.group(1) or m.group(2) or m.group(3) or m.group(6)) and not re.search(r"\d\d", said) else said


def _range_said(m: re.Match) -> bool:
    """Whether :func:`blank_arch_words` blanks the :data:`_RANGE` match ``m``: not a dash down to a depth from a
    number that may be a class ("mnist 3 vs 8 - 2 layers": the task parser keeps the 8, it was the one class 3)."""
    try:
        return not (_descending(m) and _number(m.group("lo")) < 10)
    except ArchError:  # thousands of digits: no class either
        return True


def _full_said(m: re.Match) -> str | None:
    """The numbers of a :data:`_FULL` match, or None: as the task parser, "0-4-8" is classes (no width under 10)."""
    return m.group(1) if re.search(r"\d\d", m.group(1)) else None


# a class list's last joiner before a digit ("3 and 8", "3, 8", "3 vs 8"); "3 and 8, 2 ..." ends before the comma
_CLASS_LIST_END = re.compile(r"(?:(?<!\d)\d|\b(?:" + "|".join(NUMBER_WORDS[:10]) + r"))\s*"
                             r"(?P<joiner>,\s*(?:(?:and|&)\s*)?|&\s*|(?:and|or|vs\.?|v|versus)\s+)$")
_LIST_CLOSED = re.compile(r"(?:\b(?:and|or|vs\.?|v|versus)|&)\s*$")


def _depths_that_are_classes(s: str) -> list[re.Match]:
    """The :data:`_LAYERS` matches of ``s`` ("8 hidden layers", "8 layers") whose number ends a class list and whose
    layers word starts a list of widths of another length ("mnist 3 and 8 hidden layers 64 then 32", "mnist 3 and 8
    layers of 64 and 32"): the number is a class (it was 8 hidden layers, and the one class 3). Never raises."""
    found = []
    for m in _LAYERS.finditer(s):
        said, kind = m.group(1), m.group("kind") or ""
        if not said or kind not in ("", "hidden") or not (said in NUMBER_WORDS[:10]
                                                          or said.isdigit() and len(said) == 1):
            continue
        end = _CLASS_LIST_END.search(s, max(0, m.start() - 30), m.start())
        if not end or _LIST_CLOSED.search(s, max(0, end.start() - 20), end.start()):
            # "mnist 3 and 8, 3 hidden layers of 64 and 32", "mnist 3 and 8 and 2 hidden layers of 64, 32, 16": a
            # depth after a closed class list (that disagrees with the widths; the latter was classes 3, 8, 2)
            continue
        depth = _number(said) - (kind != "hidden")
        for at in (m.start("kind") if kind else -1, m.end() - len(re.search(r"layers?$", m.group(0)).group(0))):
            widths = at >= 0 and (_WIDTH_LIST.match(s, at) or _WIDTH.match(s, at))
            # ... or of any length after a singular "layer" ("mnist 3 vs 8 hidden layer size 64": no 8 layers)
            if widths and (len(re.findall(r"\d+", next(g for g in widths.groups() if g))) not in (1, depth)
                           or m.group(0).endswith("layer") and _number(said) != 1):
                found.append(m)
                break
    return found


# a digit and a class joiner right before a width ("3 vs 8 units", "0-4 units": the 8, the 4 may end a class list)
_CLASS_BEFORE = re.compile(r"(?<![\d.])\d\s*(?P<joiner>[-/&]|\b(?:and|or|vs\.?|v|versus|to|through|thru)\b)\s*$")
# ... or a comma after a digit that closes no class list ("mnist 3, 8 units"; not "3 and 8, 5 units", "0-4, 8 units")
_COMMA_BEFORE = re.compile(r"(?<![\d.])\d\s*(?P<joiner>,)\s*$")
_LIST_BEFORE = re.compile(r"(?:[-/&]|\b(?:and|or|vs|v|versus|to|through|thru)\b\.?)\s*$")
# ... nor a setting's value ("kernel 3, 8 filters", "seed 3, 8 units", "stride=2, 8 channels"): after a word, only a
# data set's or a class word's ("mnist 3, 8 units", "digits 4, 9 channels")
_WORD_BEFORE = re.compile(r"(?<![\w-])([a-z][\w-]*)\s*(?:[=:]\s*)?$")
_CLASS_WORD = re.compile(r"[\w-]*mnist[\w-]*|fashion|digits?|class(?:es)?|labels?")
# a size where a width goes ("channels 28 by 28": its 28 was a class, "channels 8 by 8" the default cnn); not after
# the unit word's own width ("32 channels 28 by 28 images", "32 filters 3 by 3": 32 channels, as before)
_BY_SIZE = re.compile(r"\b(?:conv[\s_-]*)?(?:channels?|filters?|feature[\s-]+maps?)\s*(?:[=:]\s*)?\d+\s*by\s*\d+\b")
# numbers of two digits or more spaced before a unit word ("mnist 16 32 64 channels": the first two were classes out of
# range) after a data set, a class word or a network word; not a setting's value ("seed 42 64 units")
_OWN_WIDTH = re.compile(r"\d\s*$")  # a width right before a unit word (or its "conv"), as "32 (conv) filters"
_SPACED_BEFORE_UNITS = re.compile(r"(?<![\w.])\d\d+(?:\s+\d\d+){1,8}[\s-]*" + _UNITS + r"\b")  # bounded: linear
_NETWORK_WORD = re.compile(r"with|of|using|mlps?|cnns?|conv\w*|networks?|nets?|models?")


def _numbers_error(text: str, s: str) -> ArchError | None:
    """An ArchError for numbers of ``s`` (``text`` normalised) where widths go that are no widths as written: a size
    ("channels 28 by 28") or spaced numbers before a unit word ("16 32 64 channels", the comma alone tells widths from
    other numbers); None when there are none."""
    for m in _BY_SIZE.finditer(s):
        if _OWN_WIDTH.search(s, max(0, m.start() - 20), m.start()):
            continue
        return ArchError(f"{text!r}: {m.group(0)!r} names a size, not a number of channels: a conv layer's width is "
                         "one number, e.g. 'channels 32' (or one per layer, 'channels 16, 32'); the input size is the "
                         "task's")
    for m in _SPACED_BEFORE_UNITS.finditer(s):
        word = _WORD_BEFORE.search(s, max(0, m.start() - 40), m.start())
        if not word or _CLASS_WORD.fullmatch(word.group(1)) or _NETWORK_WORD.fullmatch(word.group(1)):
            said = " ".join(m.group(0).split())
            numbers = re.findall(r"[0-9]+", said)
            return ArchError(f"{text!r}: {said!r}: numbers spaced before a unit word may be widths or other numbers; "
                             f"write the widths with commas, e.g. "
                             f"'{', '.join(numbers)}{said[len(' '.join(numbers)):]}' (one per hidden layer), and the "
                             "numbers that are not widths apart from them")
    return None


def _classes_before_units(s: str, m: re.Match) -> str:
    """The classes as written ("3/8", "0-4") that the :data:`_WIDTH` match ``m`` of a list before a unit word may
    hold: two or more leading single digits ("mnist 3/8 channels", "3 and 8 units", "3/8/64 units"), or digits alone
    after a class joiner ("mnist 0-4 units"; not after a comma, "3 and 8, 5 units", nor a dash down, "3 vs 8 - 5 units",
    which separate phrases). They were widths on all the task's classes; empty when the list is widths."""
    numbers = list(re.finditer(r"[0-9]+", m.group(1)))
    lead = next((i for i, n in enumerate(numbers) if len(n.group(0)) > 1), len(numbers))
    if lead >= 2:
        return m.group(1)[: numbers[lead - 1].end()]
    # "mnist 3, 8 units" was the one class 3
    before = _CLASS_BEFORE.search(s, max(0, m.start() - 12), m.start())
    if not before and (comma := _COMMA_BEFORE.search(s, max(0, m.start() - 12), m.start())):
        word = _WORD_BEFORE.search(s, max(0, comma.start() - 40), comma.start())
        before = None if (_LIST_BEFORE.search(s, max(0, comma.start() - 12), comma.start())
                          or word and not _CLASS_WORD.fullmatch(word.group(1))) else comma
    if lead == len(numbers) and before and not (before.group("joiner") in "-/"
                                                and before.group(0)[0] >= numbers[0].group(0)):
        return " ".join(s[before.start(): m.start(1) + numbers[0].end()].split())
    return ""


# numbers joined by a dash to a width before its unit word ("16-32 channels", "128-64 units", "8-16-32 filters"): no
# class has them (they were "class 16 is out of range" once the unit word was blanked)
_DASHED_BEFORE = re.compile(r"(?<![\d.])(?:\d+\s*-\s*)+$")


def _dashed_before(s: str, m: re.Match) -> tuple[int, int] | None:
    """The span of the numbers joined by a dash right before the :data:`_WIDTH` match ``m`` of a list before a unit
    word when they are widths too: one of them has two digits ("128-64 units"), or one digit joined without spaces to
    a width of two ("8-16 channels") and after no class list ("3 vs 8-64 units"; "3 vs 8 - 64 units" is two phrases)."""
    run = _DASHED_BEFORE.search(s, max(0, m.start() - 40), m.start())
    if run and (re.search(r"\d\d", run.group(0))
                or re.fullmatch(r"\d-", run.group(0)) and re.match(r"\d\d", m.group(1))
                and not _CLASS_BEFORE.search(s, max(0, run.start() - 12), run.start())):
        return run.span()
    return None


def blank_arch_words(s: str) -> str:
    """``s`` with the numbers that say an architecture ("hidden layers of 32", "layers of 64 and 32 units", "kernel
    size 5", "resnet-50", "784 -> 128 -> 10", "an MLP [256, 128]") blanked (same length), and the brackets of their
    lists, so the task parser does not read them as classes or a task name. Never raises."""
    # the layers word after a class ("mnist 3 and 8 hidden layers 64 then 32") blanked too: the 8 counted layers
    classes = [(m.end(1), m.end()) for m in _depths_that_are_classes(s)]
    # _RANGE first: "64 or 128 units" was class 64 (its 128 taken as a width), before arch_words refused the range
    for pattern, read in ((_RANGE, _range_said), (_REPEAT, None), (_WIDTH_LIST, None), (_WIDTH, None),
                          (_FULL, _full_said), (_SIZES, _sizes_said),
                          (_KERNEL, None), (_STRIDE, None), (_DEPTH, None), (_UNSUPPORTED, None)):
        if pattern is _WIDTH:  # "16-" of "16-32 channels": blanked at the end, with the layers words above
            classes += [r for m in _WIDTH.finditer(s) if m.group(1) and (r := _dashed_before(s, m))]
        s = pattern.sub(lambda m: m.group(0) if read and not read(m) else _blanked(m), s)
    for a, b in classes:
        s = s[:a] + " " * (b - a) + s[b:]
    return s


def _blanked(m: re.Match) -> str:
    """The match ``m`` of :func:`blank_arch_words` with its digits and brackets blanked: "2 layers of 128 units" keeps
    "layers", so the task parser does not take the 2 as a class. "hidden 32" becomes "hidden=  ", which the parser
    reads as the width "hidden = 32": a bare "hidden" counts hidden layers ("3 and 8 hidden 32" was the one class 3)."""
    if m.re is _WIDTH and m.group(1):  # "64 units": its word too, else it counted the number before ("3/8 64 units")
        return " " * len(m.group(0))
    said = re.sub(r"[\d\[\]]", " ", m.group(0))
    # ... and so does "hidden 64 x 2" ("3 vs 8 hidden 64 x 2" was the one class 3: its "8 hidden" counted)
    bare = m.re is _WIDTH and m.group("bare") or m.re is _REPEAT and (m.group("n5") or m.group("n6"))
    return said.replace(" ", "=", 1) if bare else said


def _unnegated(s: str) -> tuple[str, list[tuple[str, Any, str]]]:
    """``s`` with the network words it says are not wanted blanked (same length, with their negation: "not a 3-layer
    cnn"), and those words as ``(part, value, said)``: ``("family", "cnn", "no cnn")``, ``("activation", "relu",
    ...)``, ``("skips", True, ...)``; a family or activation metanet does not write has no part (``None``)."""
    kinds = ((_MLP, "family", "mlp"), (_CNN, "family", "cnn"), (_UNSUPPORTED, None, None), (_LINEAR_MODEL, None, None),
             (_ACTIVATION, "activation", None), (_OTHER_ACTIVATION, None, None), (_SKIPS, "skips", True))
    hits = sorted((m.start(), m.end(), part, value) for pattern, part, value in kinds for m in pattern.finditer(s))
    spans: list[tuple[int, int]] = []
    refused: list[tuple[str, Any, str]] = []
    last_end, last_negated = 0, False
    phrase: list[tuple[int, int, Any, Any]] = []  # the words just before, not negated: "a residual mlp"
    answered: dict[int, int] = {}  # refused[i] was asked about and answered no; the answer starts there
    for start, end, part, value in hits:
        first, question = len(refused), None
        neg = _NEGATION.search(s, max(0, start - 60), start)  # a window: linear in the text's length
        if neg and neg.group("other") and _NOTHING_BUT.search(s, max(0, neg.start() - 30), neg.start()):
            neg = None
        if not (phrase and _PHRASE_GAP.fullmatch(s, phrase[-1][1], start)):
            phrase = []
        if neg:
            span = (neg.start(), end)
        elif last_negated and _OR_NEGATED.fullmatch(s, last_end, start):
            span = (start, end)
        elif after := _NEGATED_AFTER.match(s, end):  # "a residual mlp? no" refuses the phrase: it kept the skips of
            # no mlp; what the answer to a question asks for is not refused (below)
            question = after.end() if "?" in after.group(0) else None
            for hit in phrase:
                spans.append(hit[:2])
                if hit[2]:
                    refused.append((*hit[2:], " ".join(s[hit[0]:end].split())))
            span = (phrase[0][0] if phrase else start, end)
            span = (_SIZE_BEFORE.search(s, max(0, span[0] - 30), span[0]).start(), end)  # "a 3-layer mlp? no"
            phrase = []
        else:
            last_end, last_negated = end, False
            if part == "activation":
                name = s[start:end]
                value = "leaky_relu" if name.startswith("leaky") else _ACTIVATIONS[name]
            phrase.append((start, end, part, value))
            continue
        last_end, last_negated = end, True
        spans.append(span)
        if part == "activation":
            name = s[start:end]
            value = "leaky_relu" if name.startswith("leaky") else _ACTIVATIONS[name]
        if part:
            refused.append((part, value, " ".join(s[span[0]:span[1]].split())))
        if question:
            answered.update(dict.fromkeys(range(first, len(refused)), question))
    # the answer wins, as for classes: "a tanh mlp? no, a relu mlp" asks for an mlp (it was asked for and refused)
    blanked = _mask(len(s), spans)
    asked: dict[tuple[str, Any], int] = {}  # (part, value) -> where it is last asked for
    for a, b, part, value in hits:
        if part and not blanked[a]:
            value = ("leaky_relu" if s[a:b].startswith("leaky") else _ACTIVATIONS[s[a:b]]) if part == "activation" \
                else value
            asked[part, value] = a
    # "a tanh cnn? no, a relu one": the answer's "one" is the family asked about (it was refused: an mlp was written);
    # not after a family asked about alone ("a cnn? no, a relu one": its "no" refuses the cnn)
    ones: list[tuple[int, int, str]] = []
    for i, at in answered.items():
        answer = re.match(r"[^.?!]*", s[at:]).group(0)
        if (refused[i][0] == "family" and (one := _ONE.search(answer))
                and re.sub(r"\b(?:a|an|the)\b|\s", "", " ".join(refused[i][2].split()[:-1]))
                and not (_MLP.search(answer) or _CNN.search(answer))):
            asked["family", refused[i][1]] = at + one.start(1)
            ones.append((at + one.start(1), at + one.end(1), refused[i][1]))
    refused = [r for i, r in enumerate(refused) if i not in answered or asked.get(r[:2], -1) < answered[i]]
    for a, b in spans:
        s = s[:a] + " " * (b - a) + s[b:]
    for a, b, family in ones:  # the family's name in its place, same length ("one" -> "cnn", "ones" -> "cnns")
        s = s[:a] + (family + "s")[: b - a] + s[b:]
    return s, refused


def _mask(n: int, spans: Any, mask: bytearray | None = None) -> bytearray:
    """``mask`` (n zero bytes if None) with the characters of ``spans`` set to 1."""
    mask = bytearray(n) if mask is None else mask
    for a, b in spans:
        mask[a:b] = b"\1" * (b - a)
    return mask


def _once(found: dict[str, Any], key: str, value: Any, said: str, text: str) -> None:
    """Record ``value`` under ``key``; a second, different one is an error (the last one must not win silently)."""
    if key in found and found[key][0] != value:
        raise ArchError(f"{text!r} asks for two different {_LABELS[key]}: {found[key][1]!r} and {said!r}; say one")
    found.setdefault(key, (value, said))


def arch_words(text: str) -> dict[str, Any] | None:
    """The parts of a network that ``text`` names, or None when it names none.

    Keys (each only when named): ``family`` ("mlp" / "cnn"), ``hidden_layers`` (hidden layer count: "N-layer"
    counts weight layers, so it is N - 1), ``widths`` (a tuple: one width for every hidden layer, or one per hidden
    layer), ``full`` (all widths, "784-128-10"), ``sizes`` (all widths or the hidden ones: :func:`arch_from_words`
    tells which), ``activation``, ``skips``, ``bias``, ``kernel``, ``stride``; and what it refuses ("no cnn", "tanh,
    not relu", "no skip connections"): ``not_family``, ``not_activations`` (a tuple), ``skips`` False.

    Raises:
        ArchError: a family or activation metanet does not write, two different values for one part ("a CNN ...
            MLP", "2-layer ... 3 hidden layers"), a range of them ("2 or 3 layers"), a part asked for and refused,
            or more than :data:`MAX_HIDDEN` hidden layers.
    """
    if not isinstance(text, str):
        return None
    s, refused = _unnegated(_normal(text))
    if m := next((m for m in _RANGE.finditer(s) if not _descending(m)), None):
        what = "depth" if m.group("what").startswith("layer") else "width"
        first = re.search(_NUM, m.group(0)).group(0)
        tail = re.sub(r"s\b", "", m.group("tail")) if first in ("1", "one") else m.group("tail")
        raise ArchError(f"{text!r}: {m.group(0)!r} names a range of {what}s; metanet writes one network: say one "
                        f"{what}, e.g. '{first} {tail}'")
    if m := next((m for m in _RANGE.finditer(s) if _descending(m) and _dashes_down(s, m)), None):
        tail = re.sub(r"s\b", "", m.group("tail")) if m.group("lo") in ("1", "one") else m.group("tail")
        raise ArchError(f"{text!r}: {m.group(0)!r} names two depths joined by a dash; metanet writes one network: "
                        f"say one depth, e.g. '{m.group('lo')} {tail}'")
    if m := _UNSUPPORTED.search(s):
        raise ArchError(f"{text!r}: {m.group(0)!r} is no architecture metanet writes; {_SUPPORTED}")
    if m := _OTHER_ACTIVATION.search(s):
        raise ArchError(f"{text!r}: activation {m.group(0)!r} is not supported; valid: relu, tanh, gelu, silu "
                        "(swish), sigmoid, leaky relu")
    if m := _FRACTION.search(s):
        raise _fraction_error(text, m)
    if error := _numbers_error(text, s):
        raise error
    found: dict[str, tuple[Any, str]] = {}
    for pattern, family in ((_MLP, "mlp"), (_CNN, "cnn")):
        for m in pattern.finditer(s):
            _once(found, "family", family, m.group(0), text)
    repeats = list(_REPEAT.finditer(s))
    for m in repeats:  # "3x64": n hidden layers of width w
        n, w = (_number(m.group(k + i)) for k in ("n", "w") for i in ("", "2", "3", "4", "5", "6") if m.group(k + i))
        if (m.group("n") or m.group("n2")) and n >= 10:  # "an MLP 64x64" was 64 hidden layers; "400x300" too many
            raise ArchError(f"{text!r}: '{n}x{w}' may be {n} hidden layers of {w} units or hidden layers of {n} and "
                            f"{w} units; say which, e.g. '{n} hidden layers of {w} units' or 'hidden sizes {n}, {w}'")
        _once(found, "hidden_layers", n, m.group(0), text)
        _once(found, "widths", (w,), m.group(0), text)
    # the characters already read, as masks: a list of spans checked for every match was quadratic ("1 hidden = " *
    # 5,000: 2 s)
    said_repeats = _mask(len(s), (m.span() for m in repeats))
    taken = bytearray(said_repeats)
    widths = [m for m in _WIDTH_LIST.finditer(s) if not taken[m.start()]]
    taken = _mask(len(s), (m.span() for m in widths), taken)
    for m in widths:
        _once(found, "widths", tuple(_number(n) for n in re.findall(r"\d+", m.group(1))), m.group(0), text)
    for m in _WIDTH.finditer(s):
        if taken[m.start()]:
            continue
        _mask(len(s), [m.span()], taken)
        if m.group(1) and (classes := _classes_before_units(s, m)):
            raise _classes_error(text, m, classes)
        said, first = next(g for g in m.groups() if g), m.start()
        if m.group(1) and (dashed := _dashed_before(s, m)):  # "16-32 channels": one width per layer, as "16/32"
            said, first = s[dashed[0]:dashed[1]] + said, dashed[0]  # (the 16 was dropped: widths (32,))
            _mask(len(s), [dashed], taken)
        _once(found, "widths", tuple(map(_number, re.findall(r"\d+", said))), s[first:m.end()], text)
    counts = list(_HIDDEN_COUNT.finditer(s))  # "mnist 3 vs 8 - 2 hidden 32": 2 hidden layers of 32 (2 was dropped)
    chained = {m.start() for m in counts}
    for m in counts:
        n = re.match(r"\d+", m.group(0)).group(0)
        # one digit, a width read after it ("2 hidden 32 epochs": none) and no count of the next "hidden" ("1 hidden =
        # 1 hidden = ...": the width of one or the depth of the next?)
        word = _WORD_BEFORE.search(s, max(0, m.start() - 40), m.start())
        if (len(n) == 1 and taken[m.end() - len("hidden")]
                and _AFTER_HIDDEN.match(s, m.end()).end() not in chained
                and (not word or any(w.fullmatch(word.group(1)) for w in (_CLASS_WORD, _NETWORK_WORD, _BEFORE_COUNT)))):
            _once(found, "hidden_layers", int(n), s[m.start():m.end()], text)
    _mask(len(s), (m.span() for m in _FULL.finditer(s) if _full_said(m)), taken)
    for m in _SIZES.finditer(s):  # not "hidden sizes [128, 64]" (hidden widths) nor the "128-10" of "784-128-10"
        if (said := _sizes_said(m)) and taken.find(1, m.start(), m.end()) < 0:
            _once(found, "sizes", tuple(map(_number, re.findall(r"\d+", said))), m.group(0), text)
    classes = {m.span() for m in _depths_that_are_classes(s)}
    for m in _LAYERS.finditer(s):
        if said_repeats.find(1, m.start(), m.end()) >= 0 or m.span() in classes:
            continue  # the "2 layers" of "2 layers x 64 units"; the class 8 of "3 and 8 hidden layers 64 then 32"
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
    for m in _FULL.finditer(s):
        if said := _full_said(m):
            _once(found, "full", tuple(_number(n) for n in re.findall(r"\d+", said)), m.group(0), text)
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
    # "16/32 filters on mnist", "kernel 5": only a cnn has them (an mlp of widths 16, 32 was written; the kernel an
    # error) when the text names no family
    if "family" not in found and not any(r[:2] == ("family", "cnn") for r in refused):
        if said := next((found[k][1] for k in ("widths", "kernel", "stride")
                         if k in found and (k != "widths" or _CNN_UNITS.search(found[k][1]))), None):
            found["family"] = ("cnn", said)
    _add_refused(found, refused, text)
    if not found:
        return None
    if found.get("hidden_layers", (0,))[0] > MAX_HIDDEN:
        raise ArchError(f"{text!r}: {found['hidden_layers'][1]!r} asks for {found['hidden_layers'][0]} hidden layers; "
                        f"at most {MAX_HIDDEN} are read from a text (give arch= for more)")
    # a list of widths is a hidden layer each: "widths 11, 11, ..." built hundreds of them
    # ("full" and "sizes" may hold the input size and the class count too)
    if key := next((k for k in ("widths", "full", "sizes")
                    if len(found.get(k, ((),))[0]) > MAX_HIDDEN + 2 * (k != "widths")), None):
        raise ArchError(f"{text!r} lists {len(found[key][0])} widths; at most {MAX_HIDDEN} hidden layers are read from "
                        "a text (give arch= for more)")
    return {key: value for key, (value, _) in found.items()}


def _fraction_error(text: str, m: re.Match) -> ArchError:
    return ArchError(f"{text!r}: {m.group(0)!r} is no width: a layer's width is a whole number of units, e.g. "
                     f"'{re.sub(r'[.][0-9]+', '', m.group(0))}'")


def _classes_error(text: str, m: re.Match, classes: str) -> ArchError:
    said = " ".join(m.group(0).split())
    widths = re.findall(r"[0-9]+", m.group(1))
    return ArchError(f"{text!r}: {said!r} may hold the classes {classes!r} or be widths; write the classes apart from "
                     f"the widths, e.g. '{classes}, 64 units', or the widths as "
                     f"'hidden size{'s' * (len(widths) > 1)} {', '.join(widths)}'")


def check_width_numbers(text: str) -> None:
    """An ArchError, as :func:`arch_words` raises, when ``text`` has numbers that may be widths or classes: single
    digits before a unit word ("mnist 3/8 channels", "mnist 3, 8 units"), a width with a fraction ("hidden 32.5"),
    spaced numbers before a unit word ("16 32 64 channels") or a size after one ("channels 28 by 28").
    The task parser checks them too: alone it read all of mnist and the class 5."""
    if not isinstance(text, str):
        return
    s, _ = _unnegated(_normal(text))
    if m := _FRACTION.search(s):
        raise _fraction_error(text, m)
    if error := _numbers_error(text, s):
        raise error
    # as arch_words: not the numbers of "3x64 hidden", "layers of 64 and 32 units"
    taken = _mask(len(s), (m.span() for m in (*_REPEAT.finditer(s), *_WIDTH_LIST.finditer(s))))
    for m in _WIDTH.finditer(s):
        if not taken[m.start()] and m.group(1) and (classes := _classes_before_units(s, m)):
            raise _classes_error(text, m, classes)


def _add_refused(found: dict[str, tuple[Any, str]], refused: list[tuple[str, Any, str]], text: str) -> None:
    """The parts ``text`` refuses (:func:`_unnegated`) added to ``found``: ``not_family``, ``not_activations`` and
    ``skips`` False ("no skip connections"); an ArchError when one is also asked for or both families are refused."""
    families: dict[str, str] = {}
    for part, value, said in refused:
        if part in found and found[part][0] == value:
            raise ArchError(f"{text!r} asks for {found[part][1]!r} and refuses it ({said!r}); say which")
        if part == "family":
            families.setdefault(value, said)
        elif part == "activation":
            names = found.get("not_activations", ((), said))[0]
            found["not_activations"] = (names if value in names else (*names, value), said)
        else:
            found.setdefault("skips", (False, said))
    if len(families) > 1:
        raise ArchError(f"{text!r} refuses both families metanet writes ({', '.join(map(repr, families.values()))}); "
                        f"{_SUPPORTED}")
    for family, said in families.items():
        found["not_family"] = (family, said)


def arch_from_words(words: dict[str, Any], input_shape: tuple[int, ...], num_classes: int) -> Arch:
    """The :class:`~metanet.nets.Arch` that ``words`` (:func:`arch_words`) name for a task of ``input_shape`` and
    ``num_classes``: the parts not named take the module docstring's defaults. Raises ArchError when the parts
    disagree ("3 hidden layers of 64 and 32") or name no valid architecture."""
    # "not an mlp": the other family metanet writes
    family = words.get("family", "cnn" if words.get("not_family") == "mlp" else "mlp")
    if "activation" not in words and _RELU in words.get("not_activations", ()):
        raise ArchError("the text refuses relu, the activation used when none is named; name one: tanh, gelu, silu, "
                        "sigmoid or leaky relu")
    if family == "cnn":
        first = input_shape[0] if len(input_shape) == 3 else 1  # else generate names the shapes that fit
    else:
        first = math.prod(input_shape)
    if "sizes" in words:
        words = _sizes_read(words, first, num_classes)
    hidden_n = words.get("hidden_layers")
    widths = words.get("widths")
    if "full" in words and widths is not None and tuple(widths) == tuple(words["full"]):
        # one list read both ways ("hidden layers 32 -> 16 -> 8", "hidden 128-64-32": it was "the widths 32-16-8 and
        # the hidden widths [32, 16, 8] disagree"): all the widths when it starts and ends as the task does, as
        # _sizes_read reads a list, else the hidden ones
        fits = words["full"][0] == first and words["full"][-1] == num_classes
        words = {k: v for k, v in words.items() if k != ("widths" if fits else "full")}
        widths = None if fits else widths
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
    kw = {k: words[k] for k in ("activation", "skips", "bias", "kernel", "stride") if k in words}
    if family == "mlp" and ("kernel" in kw or "stride" in kw):
        raise ArchError("a kernel size or stride applies to a cnn only, not to an mlp; ask for a CNN or drop them")
    arch = Arch(family, (first, *hidden, num_classes), **kw)
    if "full" in words and words["full"] != arch.widths:
        want = "-".join(map(str, words["full"]))
        raise ArchError(f"the widths {want} do not fit the task: its inputs have shape {tuple(input_shape)} and it "
                        f"has {num_classes} classes; e.g. {arch}")
    return arch


def _sizes_read(words: dict[str, Any], first: int, num_classes: int) -> dict[str, Any]:
    """``words`` with its ``sizes`` read as all the widths ("full") when they start at the task's input size ``first``
    and end at its ``num_classes``, as the hidden widths when they do neither; one end alone is an ArchError (a
    "784-256-128" may have left out the classes, or hold a hidden layer of 784)."""
    sizes = tuple(words["sizes"])
    words = {key: value for key, value in words.items() if key != "sizes"}
    starts, ends = sizes[0] == first, sizes[-1] == num_classes
    if starts != ends:
        every = (*sizes, num_classes) if starts else (first, *sizes)
        hidden = sizes[1:] if starts else sizes[:-1]
        raise ArchError(
            f"the widths {', '.join(map(str, sizes))} {'start' if starts else 'end'} as the task does ({first} inputs, "
            f"{num_classes} classes) but do not {'end' if starts else 'start'} so: write every width, e.g. "
            f"{'-'.join(map(str, every))}, or the hidden widths alone, e.g. 'hidden size{'s' * (len(hidden) > 1)} "
            f"{', '.join(map(str, hidden))}'")
    key = "full" if starts else "widths"
    # arch_words let two more through (they might have held the input size and the class count): they do not here
    if key == "widths" and len(sizes) > MAX_HIDDEN:
        raise ArchError(f"the text lists {len(sizes)} hidden widths ({sizes[0]}, {sizes[1]}, ...); at most "
                        f"{MAX_HIDDEN} hidden layers are read from a text (give arch= for more)")
    if key in words and tuple(words[key]) != sizes:
        raise ArchError(f"the text names the widths {', '.join(map(str, sizes))} and "
                        f"{', '.join(map(str, words[key]))}; give them once")
    return {**words, key: sizes}


# training settings a text may name: the writer writes weights in one pass, with no training run to apply them to
_TRAINING = re.compile(
    r"\b(?:\d+|" + "|".join(NUMBER_WORDS) + r")\s+(?:training\s+)?epochs?\b|\bepochs?\s*[=:]?\s*\d+\b"
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
        if key == "sizes":  # all the widths, or the hidden ones
            return tuple(value) in (arch.widths, arch.hidden)
        if key in ("kernel", "stride") and arch.family != "cnn":
            return False
        if key == "not_family":  # "no cnn"
            return arch.family != value
        if key == "not_activations":
            return arch.activation not in value
        return getattr(arch, key) == value

    differ = [_said(key, value) for key, value in words.items() if not agrees(key, value)]
    if differ:
        raise ArchError(f"the text asks for {', '.join(differ)}, but arch is {str(arch)!r}; give the architecture "
                        "once: in the text or as arch")


def _said(key: str, value: Any) -> str:
    """How the text said one part of a network, for an error message."""
    if key in ("widths", "full", "sizes"):
        return ("hidden widths " if key == "widths" else "widths ") + "-".join(map(str, value))
    if key == "not_activations":
        return f"no {' or '.join(value)} activations"
    return {"family": f"a {value}", "hidden_layers": f"{value} hidden layer{'s' * (value != 1)}",
            "activation": f"{value} activations", "skips": "residual skips" if value else "no residual skips",
            "bias": "no bias", "not_family": f"no {value}"}.get(
                key, f"{key} {value}")
