"""Free text to task, rule-based: ``parse("fashion mnist, only sneakers and boots")`` -> ``fashion-mnist[7,9]``.

Rules, in order:

1. A valid task name (``"mnist[3,8]+invert"``) is used as is, and so is one followed by a network's words alone
   ("mnist[3,8] with hidden sizes [64, 32]"); other text with ``[`` or ``+`` that is not a valid name gets the
   grammar's error.
2. Transforms: "inverted" / "negative" / "inversion" / "inverted colours" -> ``+invert``; "permuted/shuffled/
   scrambled pixels" -> ``+permute(N)``; "shuffled/permuted labels", "relabelled" -> ``+relabel(N)``; ``N`` from a
   following "seed N" / "(with a random seed of N)", else 0; a "seed N" elsewhere ("seed 3, permuted pixels") with
   such a transform given none is an error (whose seed is it?). "permuted mnist" / "pixel-permuted fashion mnist" ->
   ``+permute(N)``. A leftover "shuffled" / "permuted" that says neither pixels nor labels is an error. A transform
   said not to be wanted ("not inverted", "i don't want it inverted", "inverted? no", each of "not inverted or
   permuted") is not applied. Other data
   sets ("svhn", "cifar10", "emnist", ...) are errors, not MNIST, and so are data sets named by what they hold:
   "handwritten letters" / "alphabet", "house numbers", "moving mnist", "sign language", "kannada"; not one refused
   ("digits, not letters", "letters? no, digits").
3. Data set: "fashion", "clothes", "clothing", "garments", "apparel", "zalando", "f-mnist" -> fashion-mnist (a
   misspelt "fashion", "fasion mnist", is an error, not MNIST); "mnist1d", "1d", "one-dimensional", "signals" ->
   mnist1d; "8x8" / "8 by 8", "sklearn", "scikit-learn", "load_digits" -> digits; "mnist", "handwritten", "digits",
   "numbers", "numerals" -> mnist; otherwise fashion class names alone -> fashion-mnist, and digit classes alone
   ("only 3s and 8s") -> mnist. A data set said not to be wanted ("mnist 3 vs 8, not fashion") is not read.
4. Classes, in the order mentioned: fashion class names, singular or plural (``"shirt"`` is Shirt; ``"t-shirt"``,
   ``"tshirt"``, ``"tee"``, ``"top"`` are T-shirt/top; ``"boots"`` is Ankle boot; also "pants", "sweater", "jacket",
   "handbag"); digits ``3``, ``3s``, ``3's``, plural words (``"threes"``), ranges (``"0-4"``, ``"0 to 4"``, ``"zero
   to four"``, ``"3 up to 7"``), number words in a list of numbers (``"five and six"``, ``"zero vs 1"``), after a
   class noun (``"digit five"``) or first in what an exclusion leaves out (``"without five"``; a lone "one" else is no
   class), "even" / "odd" ("even vs odd" is an error: a task cannot merge digits into parity classes); for
   fashion-mnist names and numbers mix, in the order mentioned, and a plural word listed with class names that is
   none ("shirts, sneakers and hats") is an error, not dropped. Numbers that count something ("5 examples", "2 conv
   layers", "1 epoch", "top-5", "2 gpus", "5 or more epochs", "1000 images", "1,000 training images": a number of two
   or more digits followed by a plural word), durations ("in under 1 ms", "2 seconds": no task property, not classes
   either), sizes ("28x28", "28 by 28", "2 MB", "3 params"), layer widths ("784-128-10"), percentages, decimals
   ("1e-4"), settings ("seed 3", "seeds 1 and 2", "batch size 64", "a hidden size of 64") and compared scores
   ("accuracy over 98", "loss under 1") are not classes, nor are a network's sizes ("hidden layers of 32",
   "layers of 64 and 32 units", "kernel size 5", "resnet-50": :mod:`.arch_text`, which :func:`metanet.generate`
   reads). Every other number is a class id, and one past the data
   set's classes ("digits 3, 5 and 10", "0 to 12", "mnist without 10") is an error naming it and the valid range,
   never silently dropped. A class mentioned twice ("3, 3 and 5", "threes and 3s", overlapping ranges) counts once;
   then fewer than 2 distinct classes is an error, like any single class. (The strict grammar, ``mnist[3,3,5]``,
   rejects duplicates.) Classes after "without" / "except" / "excluding" / "but not" / "no" / "leaving out" /
   "omitting" / "minus" / "rather than" / "instead of" / "all ... but" are left out when a class follows ("mnist
   without 7" is ``mnist[0-6,8,9]``, "all digits but 7" the same; "not a cnn: mnist 3 vs 8" leaves none out; "all
   digits but one" and "mnist digits except one" are errors: all but any one class, or all but 1?). A class list
   asked about and answered no by another ("mnist 3 vs 8? no, 4 and 9") is the answer's. A number word alone after the
   data set's name ("mnist five": the class 5, or five classes?) is an error too. Numbers joined by "or" / "to" / "-"
   before a counted word ("2 or 3 layers", "2-3 hidden layers") count it
   too. Class ids compared with a number are a range of the data set's classes: "greater/more/higher/larger/bigger
   than N", "above N", "over N", "> N" are N+1 to the last; "at least N", ">= N" (and "greater than or equal to N") N
   to the last, and so are "N and above/up/higher", "N or more", "N onwards"; "less/fewer/smaller/lower than N",
   "below N", "under N", "< N" 0 to N-1; "at most N", "<= N", "up to N" (and "up to and including N", "less than or
   equal to N", "N and below", "N or less") 0 to N ("digits greater than 5" is ``mnist[6-9]``, "digits up to 4 and 7"
   ``mnist[0-4,7]``); N is a numeral or a number word ending the phrase ("above five"). A lower and an upper bound
   joined by "and" / "but" that overlap are one range ("above 2 and below 7" is ``mnist[3-6]``); others add up
   ("below 3 and above 7"); a negation is an exclusion ("no more than 5" is 0-5); the data set must be named
   ("greater than 5" alone is an error). A comparison that names no class ("greater than 9") or goes past the last
   one ("up to 12") is an error naming the classes, and so are "between 3 and 7" (are 3 and 7 in?) and an arrow
   between classes ("mnist 0 -> 4": the classes 0 to 4, or 0 relabelled 4?). Comparisons of
   counts, durations and scores ("at least 50 examples per class", "under 1 ms", "more than 2 layers", "accuracy
   above 90%") are no classes, as above.
5. Constraints are checked, never dropped: "binary" (2 classes), "5-class", "three classes", "4-way" must match
   the classes found (all of the data set's if none are named: "binary mnist" is an error, "binary mnist 3 vs 8"
   is ``mnist[3,8]``); classes or examples picked by position ("first five digits", "last 3 classes", "first 1000
   images"; not "the last 2 layers") or by rank ("top 3 mnist classes"; not "top-5 accuracy"), a data set name
   glued to a number ("mnist3 and 8") is an error naming the part not understood.
6. Transforms a task does not have are errors naming the word and the transforms there are, never dropped: image
   ones ("binarized", "rotated"/"rotation", "noisy"/"noise"/"salt and pepper" (not of mnist1d, whose signals are
   noisy by construction), "blurred", "upscaled"/"downscaled"/"zoomed" (not a plain "scaled"),
   "translated"/"shifted", "cropped", "colored"/"coloured", "flipped"/"mirrored", "elastic"/"deformed"/"distorted"/
   "sheared", "occluded", "downsampled"/"low-resolution"/"resized", "augmented"/"augmentation") and label noise
   ("noisy labels", "label noise", "flipped labels", "mislabelled"), and so are "rgb", "cutout", "erased" /
   "erasing", "missing pixels", robustness to attacks ("adversarial(ly)", "attacked", "perturbed", "fgsm", "pgd")
   and masked inputs ("masked", "masking"; not a network's own "masked weights" / "weight perturbation"). A noise
   (or attack) word in any role is one: "a network robust to noise" asks for something no task gives. Negated
   ("no augmentation", "without label noise", "not rotated", "non-adversarial", "neither noisy nor rotated", "i don't
   want noise", "don't use label noise": the negation words of :func:`.arch_text.negation`, read before every word of
   a text), "-free" ("noise-free") and answered-no ("noise? no", "noisy labels? no", as "inverted? no") mentions ask
   for nothing and are skipped.
7. An image size is the data set's or an error naming it and the sizes there are ("mnist 32x32", "sklearn digits
   28x28"): no task resizes its inputs. Sizes with a side under 8 ("3x3 convolutions") or before a word of the
   network ("14x14 patches", "5x5 kernels", "64x64 hidden") are not image sizes. "Shoes" / "footwear" with
   fashion-mnist is an error naming its footwear classes (5 Sandal, 7 Sneaker, 9 Ankle boot). Colour inputs ("a
   3-channel CNN", "three-channel images") are an error: every data set's inputs have 1 channel.

A text of more than 10,000 characters (after stripping) is an error naming its length: a task is described in a
sentence, and every rule above is a pass over the whole text.
"""

from __future__ import annotations

import difflib
import re

from metanet.errors import ArchError, TaskError

from .arch_text import (COUNT_QUALIFIERS, HIDDEN_COUNT, NUMBER_WORDS, blank_arch_words, check_width_numbers,
                        negation)
from .grammar import digits_value, parse_spec
from .registry import get
from .sources import BASE_NAMES, CLASS_NAMES
from .task import Task

__all__ = ["parse", "text_to_spec", "UNDERSTOOD"]

UNDERSTOOD = (
    f"data set names ({', '.join(BASE_NAMES)}); phrases such as 'handwritten digits' (mnist), 'clothing', "
    "'clothes', 'fashion' (fashion-mnist), '8x8 digits', 'sklearn digits' (digits), '1d signals' (mnist1d); "
    "class subsets such as 'digits 3 and 8', 'only 3s and 8s', 'digits 0 to 4', 'digits above 5', 'sneakers and "
    "boots'; "
    "'inverted', 'permuted pixels seed 3', 'shuffled labels'; or a task name such as "
    "'fashion-mnist[0-4]+permute(3)+invert'"
)

# "f-mnist" too: read as "mnist" it silently gave the digits (the name grammar already takes "f mnist", i.e. fmnist)
_FASHION_WORDS = r"\b(fashion|cloth(es|ing)|garments?|apparel|zalando|f[\s_-]?mnist)\b"
_MNIST1D_WORDS = r"mnist[\s_-]*1[\s-]*d\b|\b1[\s-]?d\b|\bone[\s-]dimensional\b|\bsignals?\b"
_DIGITS_WORDS = r"\b8\s*(?:[x×]|by)\s*8\b|\bsklearn\b|\bscikit[\s-]?learn\b|\bload_digits\b"
_MNIST_WORDS = r"\bmnist\b|\bhand[\s-]?writ\w*|\bdigits?\b|\bnumbers?\b|\bnumerals?\b"
#: each data set's words, in the order a text's data set is told by them ("fashion-mnist" has "mnist" in it too)
_DATA_SET_WORDS = (("fashion-mnist", _FASHION_WORDS), ("mnist1d", _MNIST1D_WORDS), ("digits", _DIGITS_WORDS),
                   ("mnist", _MNIST_WORDS))
_KNOWN_WORDS = "|".join(f"(?:{w})" for _, w in _DATA_SET_WORDS)  # any of them

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
# Shoes are three fashion classes, none called so: "fashion mnist shoes", "clothing except shoes" were all 10 classes
_FOOTWEAR = re.compile(r"\b(?:shoes?|footwear)\b")
_NUMBER_WORDS = NUMBER_WORDS[:10]  # the classes of a digit data set
_PLURAL_WORDS = {
    **{w + "s": i for i, w in enumerate(_NUMBER_WORDS)},
    "zeroes": 0,
    "sixes": 6,
}

# "with a random seed of 42" too (it was dropped: seed 0); each run of spaces has one way to be read ("\s*\(?\s*" split
# a long run in every way: quadratic in its length)
_SEED = r"(?:\W{0,3}(?:with|using)?\s*(?:\(\s*)?(?:(?:a|the)\s+)?(?:random\s+)?seed\s*(?:of\s+|[=:]\s*)?(\d+)\)?)?"
# A seed that follows no transform ("seed 3, permuted pixels"): with a transform that has none, whose is it?
_LEFT_SEED = re.compile(r"\b(?:random\s+)?seed\s*(?:of\s+|[=:]\s*)?\d+")
# "inverted colours", "colour inversion" too: the colours were an unsupported transform, "inversion" was dropped
_INVERT = re.compile(
    r"\b(?:colou?rs?[\s-]+)?(?:invert(?:ed|ing)?|inversion|inverse|negative|negated)\b(?:[\s-]+colou?rs?\b)?")
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
# "relabelled mnist seed 4": the seed after the data set's name, as for permuted data (it was dropped: relabel(0))
_RELABELLED_DATA = re.compile(
    r"\brelabel(?:l?ed)?(?=[\s-]+(?:fashion[\s_-]*mnist|mnist|fashion|clothing|clothes|handwritten\s+digits|digits)\b"
    + _SEED + ")"
)
_RELABEL = re.compile(
    r"\b(?:relabel(?:l?ed)?|(?:permuted|permute|shuffled?|scrambled?)[\s-]+(?:the\s+)?(?:labels?|classes)"
    r"|(?:labels?|classes)[\s-]+(?:permuted|shuffled|scrambled))\b" + _SEED
)
# A shuffling word left over once the transforms above are taken: pixels or labels, the text does not say.
_AMBIGUOUS_SHUFFLE = re.compile(r"\b(?:permuted?|permutation|shuffled?|scrambled?)\b")
# A negation right before a transform's words: "not inverted", "without inversion", "non-inverted", "neither inverted
# nor permuted" ask for no transform (they were +invert, or a question about what "permuted" means); so do "i don't
# want it inverted", "no need to invert", and each transform of "not inverted or permuted" (a question which one)
_NEGATED_TRANSFORM = re.compile(
    negation("un")
    + r"(?:[\s-]+(?:be|being|been|any|the|its|their|images?|pixels?|inputs?|colou?rs?|want|need|like|it|them|to"
    r"|for|or|nor|invert(?:ed|ing)?|inversion|permut\w*|shuffl\w*|scrambl\w*|relabel\w*|labels?|classes)\b)*[\s-]*$")
# ... or a transform asked about and answered no: "mnist 3 and 8 inverted? no", "inverted: no" (it was +invert)
_TRANSFORM_ANSWERED_NO = re.compile(r"\s*(?:\?|[:=])\s*(?:nope\b|no\b|false\b)(?=\s*(?:[^\w\s]|$|thanks?\b))")
# Phrases after which the classes mentioned are left out: "mnist without 7", "clothing except bags".
# Only before a class ("an mlp, not a transformer, for mnist 3 vs 8", "not too big a network for mnist 3 vs 8" were
# mnist[0-2,4-7,9]: the classes after the "not" left out).
_CLASS_AHEAD = (
    r"(?=[\s:(\[-]*(?:(?:the|any|all|a|an|of|for|from|anything|everything|those|ones|digits?|class(?:es)?|numbers?"
    r"|numerals?|labels?|categor(?:y|ies)|images?|pictures?|examples?)\s+)*(?:\d|(?:even|odd|"
    + "|".join([*_PLURAL_WORDS, *_NUMBER_WORDS]) + r")\b|" + "|".join(p for _, p in _FASHION_CLASSES) + "))"
)
_EXCLUDE = re.compile(
    r"\b(?:without|except(?:\s+for)?|excluding|exclude|but\s+not|other\s+than|apart\s+from|not|no"
    r"|leav(?:e|ing)\s+out|omit(?:ting)?|minus|exclusive\s+of"  # "mnist exclusive of 5 and 7" was mnist[5,7]
    r"|neither"  # "neither 3 nor 8 from mnist" was mnist[3, 8]
    r"|rather\s+than|instead\s+of"  # "mnist 3 vs 8 rather than 4 vs 9" was mnist[3,8,4,9]
    # "all digits but 7", "everything but bags"; a lone "but" ("3 and 8 but inverted") is no exclusion
    r"|(?:all|every|any)(?:thing|one)?(?:\s+(?:the\s+)?[a-z-]+)?\s+but)\b" + _CLASS_AHEAD
)
# Other data sets people name; without this check "svhn digits 3 and 8" would silently load MNIST.
_OTHER_DATA_SETS = re.compile(
    r"\b(cifar[\s-]?\d*|svhn|(?:e|k|q|not)[_-]?mnist|usps|imagenet|omniglot|kuzushiji|celeba|stl[\s-]?10"
    # data sets named by what they hold: "handwritten letters" / "house numbers" were read as MNIST's digits
    r"|(?:handwritten\s+)?letters|alphabets?|(?:street[\s-]+view\s+)?house[\s-]+numbers?|moving[\s-]+mnist"
    r"|sign[\s-]+language(?:[\s-]+mnist)?|kannada(?:[\s-]+mnist)?)\b"
)  # "k-mnist" too: its "mnist" was read as MNIST
# A data set said not to be wanted ("handwritten digits, not letters", "mnist (no letters)") asks for nothing: the
# text names its data set elsewhere (it was an error naming the one refused).
_NOT_THIS_DATA_SET = re.compile(
    r"\b(?:no|not|without|except|excluding|but\s+not|other\s+than|rather\s+than|instead\s+of|unlike)\s+"
    r"(?:the\s+|any\s+)?$")
# ... and so does one metanet has ("mnist 3 vs 8, not fashion", "digits 3 vs 8 instead of clothing", "fashion mnist,
# not digits, sneakers vs boots"; they were fashion-mnist[3,8], or the classes after the "not" left out) where its
# words end a phrase; not before classes ("mnist without digits 3 and 8", "no digits above 5" leave them out)
_REFUSED_DATA_SET_END = re.compile(r"\s*(?:[^\w\s]|$|(?:but|and|or|please|instead|rather|though)\b)")
# ... and one asked about and answered no: "classify letters of the alphabet? no: digits". The answer ends there (a
# mark or the end follows): "cifar10 3 vs 8? no preprocessing" asks for cifar10 (it was silently mnist[3,8]); or the
# data set meant follows, in any of its words ("letters? no digits", "? no handwritten digits", "? no sklearn digits");
# "nope" is always an answer ("cifar10? nope mnist")
_NOT_THIS_DATA_SET_AFTER = re.compile(r"[^.?!]{0,40}\?\s*(nope\b|no\b(?=\s*(?:[^\w\s]|$|" + _KNOWN_WORDS + ")))")
# ... and a known one asked about and answered no, the answer naming another: "mnist? no, fashion-mnist 3 vs 8" is
# fashion-mnist[3,8] (the "no" excluded 3 and 8 and the question's data set stayed)
_ANSWERED_NO = re.compile(r"\?\s*(nope|no)\b")
# the answer starts with a data set's name, or says it is the one meant ("no, I mean fashion-mnist 3 vs 8" kept mnist's
# "no" as an exclusion: fashion-mnist[0-2,4-7,9])
_ANSWER = re.compile(r"\W*(?:(?:i\s+)?(?:mean|meant|want|need)\s+|(?:use|rather|instead|make\s+it|it'?s|it\s+is)\s+)?"
                     r"(?:the\s+)?(?=" + _KNOWN_WORDS + r")[^.?!]*")
# ... and a class list answered no by another ("mnist 3 vs 8? no, 4 and 9", "3 vs 8, no: 4 and 9"): a mark after the
# "no" ("mnist? no 4s" leaves out the 4s)
_CLASSES_ANSWERED = re.compile(r"[?,]\s*(nope|no)\s*[,:;.!-]+\s*(?:(?:i\s+)?(?:mean|meant|want|need)\s+"
                               r"|(?:use|rather|instead|make\s+it|it'?s|it\s+is)\s+)?")
_SENTENCE_REST, _CLAUSE_REST = re.compile(r"[^.?!]*"), re.compile(r"[^.?!,;:]*")
# A misspelt "fashion" ("fasion-mnist", "fashon mnist") left the word "mnist": silently the digits, not clothing.
# difflib ratio: one letter dropped, swapped, changed or doubled (>= 0.857); not "flashing" (0.8), "fusion" (0.77)
_NEAR_FASHION = 0.85
# real words that contain "fashion" whole: "old-fashioned handwritten digits" is MNIST ("fashions" is read as a typo)
_FASHION_DERIVED = re.compile(r"fashion(ed|er)")
# Numbers that count something other than classes: "5 examples per class", "2-layer", "1 epoch", "top-5".
# up to two words between ("10 warmup epochs", "5 random seeds", "3 more training runs": arch_text's; they were classes)
_COUNTED_NOUN = (
    r"(?:examples?|samples?|shots?|epochs?"
    # a kind of layer ("2 conv layers", "3 dense units") counts layers too: they were the classes 2 and 3
    r"|(?:(?:hidden|conv\w*|dense|linear|fully[\s-]+connected|fc|residual|recurrent|attention|output|input)[\s-]+)?"
    # not "hidden = 32" ("mnist 3 and 8 hidden = 32" was the one class 3): a width, read by arch_text; nor "hidden
    # sizes" ("digits 0-4 hidden sizes 64, 32" was all of mnist, "digits 3 and 8 hidden sizes ..." the one class 3)
    r"(?:layers?|units?|neurons?|channels?|filters?|blocks?)"
    r"|hidden(?!\s*[=:]|\s+[\d\0]|[\s_-]*(?:layer[\s_-]*)?(?:sizes?|dim(?:ension)?s?|widths?)\b)"
    r"|conv(?:olution)?s|heads?|kernels?"
    r"|outputs?"
    r"|logits?|steps?"
    r"|candidates?|networks?|nets?|models?|seeds?|runs?|iterations?|batch(?:es)?"
    # sizes, budgets and repeats ("under 2 MB", "3 params", "on 2 gpus", "5 folds", "99 percent"): no classes either
    r"|params?|parameters?|bytes?|[kmg]i?b|kilobytes?|megabytes?|gigabytes?|gpus?|cpus?|cores?|workers?|threads?"
    r"|trials?|repeats?|repetitions?|folds?|percent|per\s+cent"
    # durations: "read mnist in under 1 ms" named class 1 (not "3s", a class, nor "h")
    r"|ms|milliseconds?|µs|microseconds?|ns|nanoseconds?|secs?|seconds?|mins?|minutes?|hrs?|hours?|days?"
    r"|(?:images?|pictures?)\s+(?:per|each|a)\b)\b"
)
_COUNTED = COUNT_QUALIFIERS + _COUNTED_NOUN
# ... but a class digit that ends a list or range keeps its class before a qualified count ("mnist 3 vs 8 more
# epochs", "digits 0-4 random seeds" were the one class 3 and all of mnist; "mnist 3 vs 8, 5 more epochs" counts 5)
# (not after "and" or a comma, which also start a phrase: "mnist 3 vs 8 and 5 more epochs")
_LIST_END = (r"(?:(?!\d\b)|(?=\d[\s-]*" + _COUNTED_NOUN + r")|(?<!\b\d-)(?<!\b\d\sto\s)(?<!\b\d\sor\s)"
             r"(?<!\b\d\svs\s)(?<!\b\d\svs\.\s)(?<!\b\d\sversus\s)(?<!\b\d\sthrough\s)(?<!\b\d\sthru\s))")
# ("5 or more epochs", "100 or so examples": the number was class 5, or out of range)
_COUNTS = (r"\b" + _LIST_END + r"\d+(?:\s+(?:or|and)\s+(?:more|fewer|less|so|above|below|over|under|up|down))?[\s-]*"
           + _COUNTED
           + r"|\btop[\s-]*\d+\b"
           # "with 3 hidden = 64" counts hidden layers (arch_text reads them); the last of a list or range does not
           r"|" + HIDDEN_COUNT)
# Training settings written as "name number": "batch size 64", "lr 3", "width=128".
_SETTINGS = (
    r"\b(?:batch(?:es|[\s_-]*size)?|bs|lr|learning[\s-]+rate|width|depth|hidden[\s_-]*size|epochs?|steps?)"
    r"(?:\s+of)?\s*(?:[=:]\s*)?\d+\b"  # "a hidden size of 64" too
)
# The longest text read (stripped): a task is described in a sentence, and a megabyte took 6 s.
_MAX_TEXT = 10_000
# Joining words of a list of classes ("shirts, sneakers and boots"), an article allowed after them.
_LIST_SEP = r"\s*(?:,|&|/|\band\b|\bor\b|\bvs\b\.?|\bversus\b|\bplus\b)\s*(?:(?:the|a|an|some|also)\s+)?"
_WORD_AFTER = re.compile(_LIST_SEP + r"([a-z][a-z-]*)\b")
_WORD_BEFORE = re.compile(r"\b([a-z][a-z-]*)" + _LIST_SEP + "$")
# An answer after "? no" that is fashion class names alone, up to a mark or the end ("cifar10? no sneakers and boots",
# "mnist? no, sneakers and boots"): fashion-mnist's classes, not classes left out of the data set asked about (mnist
# has no sneakers: it was all of mnist, and cifar10 refused). Not "no top-1 accuracy", "no bags please".
_FASHION_NAME = "(?:" + "|".join(p for _, p in _FASHION_CLASSES) + ")"
_CLASS_NAMES_ANSWER = re.compile(r"\s*[^\w\s]*\s*(?:(?:only|just)\s+)?(?:the\s+)?" + _FASHION_NAME + "(?:" + _LIST_SEP
                                 + _FASHION_NAME + r")*\s*(?:[.,;:!?)]|$)")
# ... after a data set metanet has not ("cifar10? no sneakers and boots"), as _NOT_THIS_DATA_SET_AFTER
_NOT_THIS_DATA_SET_NAMES_AFTER = re.compile(r"[^.?!]{0,40}\?\s*(no)\b(?=" + _CLASS_NAMES_ANSWER.pattern + ")")
_PLURALISH = re.compile(r"[a-z][a-z-]*[a-rt-z]s")
# Singular number words are classes only in a list of numbers ("five and six", "zero vs 1"): a lone "one" ("one
# network") is no class, and a list that counts something ("one or two layers") neither.
_NUMBER_ITEM = r"(?:\b(?:" + "|".join(list(_PLURAL_WORDS) + list(_NUMBER_WORDS)) + r")\b|\b\d+(?:'?s)?\b)"
# "one, two, or three": one or more joining words, each space read one way ("(?:" + _LIST_SEP + ")+" let the spaces
# between two commas end one or start the next: "3 , , , , x" took time exponential in its commas, 46 s for 16)
_LIST_SEPS = r"\s*(?:(?:,|&|/|\band\b|\bn?or\b|\bvs\b\.?|\bversus\b|\bplus\b)\s*(?:(?:the|a|an|some|also)\s+)?)+"
# ... nor a number word after a list that says how many of something ("3 and 8, one of the digits", "one more time",
# "one mlp": they were class 1); "of" a data set is no count ("three and eight of mnist" was all of mnist)
_NUMBER_LIST = re.compile(_NUMBER_ITEM + r"(?:" + _LIST_SEPS + _NUMBER_ITEM
                          + r"(?!\s+(?:of(?!\s+(?:the\s+)?(?:(?:fashion[\s_-]*|f[\s_-]?)?mnist(?:[\s_-]*1[\s-]*d)?|fashion"
                          r"|sklearn|scikit|(?:data[\s_-]*)?sets?|datasets?)\b)|more|mlps?|cnns?|conv[\s-]?nets?)\b))+")
# A number word named as a class ("digit five and digit seven", "the class three vs 8") is one, alone or not: "digit
# five and digit seven" was no list of numbers, so all of mnist.
# Not the idiom "number one" before a noun ("3 vs 8, number one priority is speed" was [3, 8, 1]).
_CLASS_NOUN_NUMBER = re.compile(
    r"\b(?!number\s+one\s+(?!(?:and|or|nor|vs|versus|plus|with|using|in|on|for|from|please|then|too|also|as)\b)"
    r"[a-z])(?:digit|class|number|numeral|label|category)\s+(" + "|".join(_NUMBER_WORDS) + r")\b(?!-)")
# ... and one that starts what an exclusion leaves out ("mnist without five", "all digits but seven", "0 to 4 except
# the digit two"; they were all the classes, "without 5" was not), ending there or before a joining word; not "one" of
# "not one but two networks", nor "one-hot".
_EXCLUDED_NUMBER = re.compile(
    r"\s*(?:(?:the|a|digit|class|number|numeral|label|category)\s+)*(" + "|".join(_NUMBER_WORDS) + r")\b"
    r"(?=\s*(?:$|[^\w\s-]|(?:and|or|nor|with|using|in|on|for|from|please|then|too|also|as)\b))")
_COUNTED_AFTER = re.compile(r"[\s-]*" + _COUNTED)
_LIST_END_AT = re.compile(_LIST_END)
# Numbers joined by "or" / "to" / "-" right before a counted word count it too: "2 or 3 layers", "2-3 hidden layers",
# "one, two, or three layers"; "3 and 8, 2 layers" keeps 3 and 8 (an "and" list names classes). The whole list is
# found first and what follows it checked after (_blank_counts): a lookahead here backtracked into every shorter list
# from every item, and "\s*,?\s*" split each run of spaces in two every way ("3 to " * 20: 18 s, exponential).
_COUNT_LIST = re.compile(
    # an arrow too: "2 -> 4 layers" was the class 2
    _NUMBER_ITEM + r"(?:\s*(?:,\s*)?(?:\bor\b|-+>|=+>|→|-|/|\bto\b|\bthrough\b|\bthru\b)\s*" + _NUMBER_ITEM + r")*"
)
# ... and "between 2 and 4 layers" (its 2 was a class)
_BETWEEN_COUNTS = (r"\bbetween\s+" + _NUMBER_ITEM + r"\s*(?:and|&)\s*" + _NUMBER_ITEM
                   + r"(?=" + _COUNTED_AFTER.pattern + ")")
_COUNT_WORDS = NUMBER_WORDS[:11]
# Constraints on the classes that the parser does not turn into classes, so must hold or be an error: "binary" (2
# classes), "5-class", "three classes", "4-way" ("one class per output" counts nothing).
# "all digits but one", "every class except one": all but any one class, or all but class 1? (it was class 1; "mnist
# without one" and "all digits but one and two" name it). Not "one-hot", "but one hidden layer", "but one of 3 and 8".
_ALL_BUT_ONE = re.compile(
    r"\b(?:all|every|any)(?:thing|one)?\b[^.?!]{0,40}?\b(?:but|except(?:\s+for)?|save)\s+(?:just\s+)?one"
    r"(?:\s+(?:digit|class|number|numeral|label|category|item|of\s+them))?\b(?!-)"
    r"(?!\s*(?:[,&/]\s*)?(?:and|or|nor|to|through|thru|vs|versus|plus|of|\d+|" + "|".join(_NUMBER_WORDS)
    + r"|hidden|conv\w*|dense|linear|layers?|units?|neurons?)\b)"
    # ... and after the data set's name: "mnist digits except one" was class 1 while "all digits except one" asked
    # which; ending the clause ("mnist except one and two", "mnist but one network" name no such thing)
    r"|(?:" + _KNOWN_WORDS + r")(?:[\s,]+(?!(?:and|or|vs|to|" + "|".join(_NUMBER_WORDS) + r")\b)[a-z-]+){0,3}?"
    r"[\s,]+(?:but|except(?:\s+for)?|save)\s+(?:just\s+)?one"  # no class before: "mnist 0 to 4 except one" is 1
    r"(?:\s+(?:digit|class|number|numeral|label|category|item|of\s+them))?"
    r"(?=\s*(?:$|[.;:!?)]|,(?!\s*(?:\d|" + "|".join(_NUMBER_WORDS) + r"|and|or|nor)\b)))")
# A number word alone right after the data set's name ("mnist five", "fashion-mnist two."): the class 5 (a task needs
# two) or five classes? It was dropped: all of mnist. Not a list ("mnist five and six"), a count ("mnist two
# layers") nor "one", which is no class alone ("mnist one").
# "(?:\s*[,:])?\s+": each run of spaces read one way ("\s*[,:]?\s+" split it every way: "mnist" and 10,000 spaces, 3 s)
_LONE_NUMBER_AFTER_NAME = re.compile(r"(?:" + _KNOWN_WORDS + r")(?:\s*[,:])?\s+(?P<n>" + "|".join(
    w for w in _NUMBER_WORDS if w != "one") + r")\b"
                                     r"(?=\s*(?:$|[.;:!?)]|,(?!\s*(?:\d|" + "|".join(_NUMBER_WORDS) + r"|and|or)\b)))")
_CLASS_COUNT = re.compile(
    r"\b(?:binary|(\d+|" + "|".join(_COUNT_WORDS) + r")[\s-]*(?:class(?:es)?|way))\b(?![\s-]*(?:per|each|at)\b)"
)
# Classes or examples picked by position ("first five digits", "last 3 classes", "first 1000 images"): a task keeps
# every example of the classes it names, by label; "the last 2 layers", "first 5 epochs" count something else.
_BY_POSITION = re.compile(
    r"\b(?:first|last)\s+(?:\d+|" + "|".join(_COUNT_WORDS[2:]) + r")\b(?!" + _COUNTED_AFTER.pattern + ")"
)
# Classes picked by rank ("top 3 mnist classes", "the top-5 digits"): a task has no ranking of its classes to pick
# from. "top-5" alone or before a metric ("top-5 accuracy") counts nothing and is blanked as a count.
_BY_RANK = re.compile(
    r"\btop[\s-]*(?:\d+|" + "|".join(_COUNT_WORDS[2:]) + r")\b"
    r"(?=(?:\s+(?:fashion[\s_-]*mnist|f?mnist(?:[\s_-]*1[\s-]*d)?|fashion|handwritten|clothing|sklearn|8\s*[x×]\s*8))*"
    r"\s+(?:class(?:es)?|digits?|categor(?:y|ies)|labels?|numbers?|numerals?)\b"
    r"(?![\s-]*(?:accuracy|acc|error|err|precision|recall|score|rate)\b))"
)
# A data set name glued to a number ("mnist3 and 8" would read as the one class 8); "mnist1d" is a name.
_GLUED_NAME = re.compile(r"(?<![a-z])(?:fashion[\s_-]*|f)?mnist(?!1[\s-]*d\b)\d+\b")
# Negated or "-free" mentions ("no augmentation", "without label noise", "noise-free", "neither noisy nor rotated", "i
# don't want noise") ask for nothing: skipped. Not past a word that negates again: "don't forget noise", "can't skip
# rotation", "wouldn't mind noise" ask for it (they were read as plain mnist)
_NEGATED = (r"(" + negation("zero")
            + r"(?:\s+(?!(?:forget|skip|remov|lack|mind|avoid|omit|drop|exclud|miss|ignor|los|neglect|without)\w*\b)"
            r"[a-z]+)?[\s-]+)?")
_NOT_FREE = r"(?![\s-]*free\b)"
# Label noise that tasks do not have ("noisy labels", "flipped labels", "mislabelled"): only a fixed permutation of
# the classes (+relabel) is; dropping it would train on other labels than asked.
_LABEL_NOISE = re.compile(
    _NEGATED + r"\b((?:nois[ey]|noisier|flipped|corrupt(?:ed)?|wrong|random(?:i[sz]ed)?|shifted)[\s-]+(?:the\s+)?"
    r"labels?|labels?[\s-]+(?:nois[ey]|flips?|flipping|corruption)|mislabel(?:l?ed|s|ling|ing)?)\b" + _NOT_FREE
)
# Image transforms that tasks do not have; dropping them would train on other inputs than asked. A noise word is
# refused in any role ("robust to noise" too): no task adds noise or tests robustness to it.
_UNSUPPORTED = re.compile(
    _NEGATED + r"\b(binari[sz](?:ed|ation|e)|rotat(?:e|ed|es|ing|ions?)|nois(?:e|ed|y|ier)"
    r"|salt[\s-]+(?:and|&)[\s-]+pepper|blur(?:s|red|ry|ring)?|(?:up|down)scaled|zoom(?:s|ed|ing)?"
    r"|translat(?:ed|ions?)|shift(?:ed|ing)|crop(?:s|ped|ping)?|colou?r(?:s|ed|ised|ized)?|flip(?:s|ped|ping)?"
    r"|mirror(?:s|ed|ing)?|elastic|deform(?:s|ed|ations?)?|distort(?:ed|ions?)|shear(?:s|ed|ing)?"
    r"|occlu(?:ded|sions?|ders?)|(?:down|up)[\s-]?sampl(?:e|ed|ing)|low(?:er)?[\s-]*res(?:olution)?"
    r"|resiz(?:e|ed|ing)|augment(?:s|ed|ations?)?|rgb|cutouts?|eras(?:e|ed|ing|ure)|missing[\s-]+pixels?"
    # adversarial robustness, masked inputs: "adversarial mnist", "masked mnist" were read as plain MNIST
    r"|adversari(?:al|ally|es)|attack(?:s|ed|ing)?|fgsm|pgd"
    # a network's own masks and perturbations ("masked weights", "weight perturbation") are not the task's
    r"|(?<!weight[\s-])(?<!weights[\s-])(?:mask(?:s|ed|ing)?|perturb(?:s|ed|ing|ations?)?)"
    r"(?![\s-]+(?:(?:on|of|over|for|in|to)\s+)?(?:the\s+)?(?:weights?|parameters?|params|neurons?|units?|layers?"
    r"|connections?|gradients?)\b))\b" + _NOT_FREE
)
# Image sizes ("mnist 32x32") that are not the data set's were dropped: the task's own size was used. Sizes under 8
# are taken for kernels ("3x3 convolutions"), as are sizes before such a word ("9x9 patches", "64x64 hidden").
_IMAGE_SIZES = {"mnist": "28x28", "fashion-mnist": "28x28", "digits": "8x8", "mnist1d": None}
_IMAGE_SIZE = re.compile(  # "28 by 28" too (equal sides: "3 and 8 by 10 networks" is no size)
    r"\b(?:(\d+)\s*[x×]\s*(\d+)|(\d+)\s+by\s+(\3))\b"
    r"(?![\s-]*(?:(?:max|average|avg)[\s-]*)?(?:kernels?|filters?|conv\w*|pool\w*"
    r"|patch(?:es)?|windows?|strides?|grids?|blocks?|tiles?|hidden|layers?|units?|neurons?|mlps?|matri(?:x|ces)"
    r"|weights?|(?:feature[\s-]+)?maps?|confusion|activations?)\b)"  # "16x16 feature maps": a network's, not the input
)
# Colour inputs ("a 3-channel CNN for mnist", "three-channel images", "3 input channels", "in_channels=3"): every data
# set's inputs have 1 channel and no task adds colour (they were silently its grey inputs); "a cnn with 3 channels"
# is a layer's width (:mod:`.arch_text`)
_COLOUR_CHANNELS = re.compile(
    r"\b(?:3|three)[\s-]*(?:(?:input|colou?r)[\s-]+)?channel\b|\bthree[\s-]*(?:(?:input|colou?r)[\s-]+)?channels\b"
    r"|\b3[\s-]*(?:input|colou?r)[\s-]+channels\b|\bin(?:put)?[\s_-]*channels\s*(?:of\s+|[=:]\s*)?3\b")
# Plural words that may follow or precede a list of fashion classes without being one.
_NOT_CLASS_WORDS = frozenset(
    "classes images pictures photos examples samples items others ones things kinds types categories labels pixels "
    "inputs features digits numbers networks nets models mlps cnns layers epochs steps units neurons nodes channels "
    "filters runs seeds "
    "outputs targets thanks this thus its has was does yes plus versus".split()
)
# A number of two or more digits followed by a plural word counts something ("1000 images", "20 minutes",
# "10 digits"); no data set has a class id that large, so it is not read as one.
_QUANTITY = re.compile(  # "1000 training images" too (it was "class 1000 is out of range")
    r"\s+" + COUNT_QUALIFIERS
    + r"(?!(?:as|is|was|has|does|this|thus|plus|versus|its|less|unless|across|class|yes)\b)[a-z]+[a-rt-z]s\b"
)
# Class ids compared with a number ("digits greater than 5", "above 6", "<= 3", "up to 4"): a range of the data set's
# classes; they were read as the one class named ("names only one class (5)"), and "up to 4 and 7" as [4, 7]. Found
# once counts are blanked, so "at least 50 examples", "under 1 ms", "more than 2 layers" stay counts. A number word
# is taken only before the end, punctuation or a joining word ("above five, inverted"): "at least one conv" counts.
_NUMBER_WORD_END = (
    r"(?=\s*(?:$|[^\sa-z]|(?:and|or|but|except|excluding|without|only|digits?|numbers?|numerals?|classes)\b))"
)
_COMPARISON = re.compile(
    r"(?:(?P<ge>\b(?:(?:greater|more|higher|larger|bigger)\s+than\s+or\s+equal\s+to|at\s+least)\b|>=|=>|≥)"
    r"|(?P<le>\b(?:(?:less|fewer|smaller|lower)\s+than\s+or\s+equal\s+to|at\s+most|up\s+to(?:\s+and\s+including)?)\b"
    r"|<=|=<|≤)"
    r"|(?P<gt>\b(?:(?:greater|more|higher|larger|bigger)\s+than|above|over)\b|>)"
    r"|(?P<lt>\b(?:(?:less|fewer|smaller|lower)\s+than|below|under)\b|<))"
    r"\s*(?P<n>\d+(?:'?s)?\b|\b(?:" + "|".join(_NUMBER_WORDS) + r")\b" + _NUMBER_WORD_END + ")"
)
# ... and the same after the number: "digits 5 and above", "4 or less", "5 onwards" (they named the one class 5); not
# before a number ("5 and above 7", "5 and up to 8" compare that one)
_COMPARED_AFTER = re.compile(
    r"\b(?P<n>\d+(?:'?s)?)(?:\s*,\s*|\s+)(?:(?:and|or)\s+(?:(?P<ge>above|up|higher|greater|more|over|larger|bigger)"
    r"|(?P<le>below|under|lower|less|fewer|smaller|down))|onwards?|upwards?)\b"
    r"(?!\s*(?:\d|than\b|to\b|(?:" + "|".join(_NUMBER_WORDS) + r")\b))"
)
_CLASS_NOUNS = frozenset("digits numbers numerals classes labels categories ones".split())
# Words that may follow compared class ids ("digits above 5 and 7", "above 5 with 2 layers"); any other word makes
# the number a quantity of something ("over 3 conv layers", "under 3 percent error", "up to 3 mnist networks": they
# were silently the classes 4-9, 0-2, 0-3), left to the rules for plain numbers.
_AFTER_COMPARED = _CLASS_NOUNS | frozenset(
    "digit number numeral class label category one and or but except excluding without only plus vs versus "
    "inclusive exclusive included also too then with in for on using trained train seed please of from as within by "
    # another comparison ("above 5 over 3 epochs", "below 3 and above 7 under 10 seconds")
    "over under above below less more greater fewer larger smaller bigger higher lower at up no not".split())
_WORD = re.compile(r"\s*([a-z]+)")
# A score, cost or setting right before the comparison ("loss under 3", "accuracy of at least 9", "lr over 1"):
# compares that, not class ids.
_SCORE_WORDS = (
    r"\b(?:accuracy|acc|errors?|err|loss|lr|(?:learning|error)\s+rate|score|f1|precision|recall|auc|seed|width|depth"
    r"|size|time|memory|budget|cost|latency|runtime|duration|param(?:eter)?s|weights|count)"
    r"(?:\s+(?:of|is|are|be|must|should|needs?|stays?|remains?|to|that|which|the|an?))*"
)
_COMPARED_NOT_CLASSES = re.compile(_SCORE_WORDS + r"\s*[:=]?\s*$")
# The whole comparison of a score ("accuracy over 98", "loss under 1", "error of 5 or less") is blanked as a count:
# its number was still read as a class ("class 98 is out of range", "names only one class (1)").
_SCORE_COMPARED = (
    _SCORE_WORDS + r"\s*(?:[:=]\s*)?(?:(?:(?:greater|more|higher|larger|bigger|less|fewer|smaller|lower)\s+than"
    r"(?:\s+or\s+equal\s+to)?|at\s+(?:least|most)|up\s+to|above|over|below|under|[<>]=?|=[<>]|[≥≤])\s*\d+\b"
    r"|\d+\s+(?:or|and)\s+(?:more|higher|above|better|over|less|lower|below|under|fewer)\b)"
)
# "between 3 and 7": whether 3 and 7 are in, the text does not say (it was read as the two classes 3 and 7).
_NUMBER = r"(?:\d+|" + "|".join(_NUMBER_WORDS) + r")\b"
_BETWEEN = re.compile(r"\bbetween\s+(" + _NUMBER + r")\s*(?:and|&|-)\s*(" + _NUMBER + ")")
# An arrow between two class numbers ("mnist 0 -> 4", "0 => 4"): the range 0 to 4, or class 0 relabelled 4? Its ">"
# and "=>" were comparisons ("mnist 0 -> 4" was mnist[0,5-9]). Widths ("784 -> 128 -> 10") are blanked before.
_CLASS_ARROW = re.compile(r"\b(" + _NUMBER + r")\s*(?:-+>|=+>|→|⇒|⟶)\s*(" + _NUMBER + ")")
# "3 to 8 exclusive": which ends are out (8? 3 and 8?), the text does not say (it was read as 3 to 8, both in)
# after any separator: "3 to 8 - exclusive", "3 to 8: exclusive" were 3 to 8; "both (ends) exclusive" says which
_EXCLUSIVE = re.compile(r"\b(" + _NUMBER + r")\s*(?:to|through|thru|-)\s*(" + _NUMBER + r")[\s,(:;-]*"
                        r"(?P<both>both\s+(?:ends?\s+)?)?(?P<word>exclusive|non-?\s*inclusive|not\s+inclusive)\b"
                        r"(?P<both_after>\s+(?:at|on|of)\s+both(?:\s+ends?)?\b)?")
# ... "exclusive of" a class: "0 to 9 exclusive of 5" (an exclusion) or "of 8", an end (which ends are out?)
_EXCLUSIVE_OF = re.compile(r"\s+of\s+(?:(" + _NUMBER + ")|" + "|".join(p for _, p in _FASHION_CLASSES) + ")")


def _normalise(text: str) -> str:
    s = text.lower()
    s = s.replace("\u2013", "-").replace("\u2014", "-").replace("\u2019", "'")
    # "1,000 images" is one number (same length: the commas become leading spaces); it was the classes 1 and 0
    return re.sub(r"\b\d{1,3}(?:,\d{3})+\b", lambda m: m.group(0).replace(",", "").rjust(len(m.group(0))), s)


def _take_transforms(s: str) -> tuple[str, list[str], list[str]]:
    """Find transform phrases; return the text with them blanked out, the transforms in order and the phrases of
    those that take a seed but were given none."""
    found: list[tuple[int, str]] = []
    unseeded: list[str] = []
    negations: list[tuple[int, int]] = []

    def negated(m: re.Match) -> bool:
        """Whether the transform ``m`` is negated; its words are blanked now, its negation at the end (it may negate
        the next one too: "not inverted or permuted pixels")."""
        nonlocal s
        neg = _NEGATED_TRANSFORM.search(s, max(0, m.start() - 60), m.start())  # a window: linear in the length
        if not (neg or _TRANSFORM_ANSWERED_NO.match(s, m.end())):
            return False
        negations.append((neg.start() if neg else m.start(), m.end()))
        s = s[: m.start()] + " " * (m.end() - m.start()) + s[m.end():]
        return True

    # "pixel-permuted mnist seed 3" before _PERMUTE, whose "pixel-permuted" would take it without its seed
    for pattern, kind in (
        (_PERMUTED_DATA, "permute"), (_PERMUTE, "permute"), (_RELABELLED_DATA, "relabel"), (_RELABEL, "relabel"),
        (_INVERT, "invert")
    ):
        for m in pattern.finditer(s):
            if negated(m):  # asked for no such transform
                continue
            if kind == "invert":
                found.append((m.start(), "invert"))
            else:
                # the seed as written (the grammar checks it): int() refuses one of 5,000 digits
                found.append((m.start(), f"{kind}({(m.group(1) or '0').lstrip('0') or 0})"))
                if m.group(1) is None:
                    unseeded.append(m.group(0).strip())
            s = s[: m.start()] + " " * (m.end() - m.start()) + s[m.end():]
            if kind != "invert" and m.group(1) and m.start(1) >= m.end():  # a seed inside the lookahead
                s = s[: m.start(1)] + " " * (m.end(1) - m.start(1)) + s[m.end(1):]
    for m in _AMBIGUOUS_SHUFFLE.finditer(s):  # "not permuted": no transform, so no question which one
        negated(m)
    for a, b in negations:
        s = s[:a] + " " * (b - a) + s[b:]
    found.sort()
    return s, [t for _, t in found], unseeded


def _data_set_named(s: str) -> str | None:
    """The data set whose words ``s`` has (the first of :data:`_DATA_SET_WORDS`), or None."""
    return next((base for base, words in _DATA_SET_WORDS if re.search(words, s)), None)


def _answered_with_another(s: str) -> str:
    """``s`` with a known data set asked about and answered no by naming a data set ("mnist? no, fashion-mnist 3 vs
    8", "digits? no, handwritten digits 3 vs 8") blanked: the question's data set words and the "no" (which excluded
    the answer's classes when it named the same data set: mnist[0-2,4-7,9]), and the question's classes when the
    answer names its own. A class list answered no ("mnist 3 vs 8? no, 4 and 9") is left as it was."""
    for m in _ANSWERED_NO.finditer(s):
        answer = _ANSWER.match(s, m.end())
        start = max(s.rfind(c, 0, m.start()) for c in ".?!") + 1  # the question is the sentence the "?" ends
        asked = s[start: m.start()]
        if not (answer and _data_set_named(answer.group(0))) and _data_set_named(asked) != "fashion-mnist":
            answer = _CLASS_NAMES_ANSWER.match(s, m.end())  # "mnist? no, sneakers and boots": fashion-mnist's
        if answer and _data_set_named(asked) and (_data_set_named(answer.group(0)) or _fashion_hits(answer.group(0))):
            asked = re.sub(_KNOWN_WORDS, lambda w: " " * len(w.group(0)), asked)
            s = s[:start] + asked + s[m.start(): m.start(1)] + " " * len(m.group(1)) + s[m.end(1):]
            s = _without_asked_classes(s, start, m.start(), answer.group(0))
    return s


def _without_refused_data_sets(s: str) -> str:
    """``s`` with the known data sets it says are not wanted ("not fashion", "instead of clothing") blanked, with their
    negation (:data:`_REFUSED_DATA_SET_END`); a "? no" stays an answer ("fashion-mnist? no handwritten digits")."""
    chains: list[list[int]] = []  # [start, end, negated]: "not fashion mnist" is one
    for m in re.finditer(_KNOWN_WORDS, s):
        if chains and chains[-1][2] and re.fullmatch(r"[\s_-]*", s[chains[-1][1]: m.start()]):
            chains[-1][1] = m.end()
            continue
        neg = _NOT_THIS_DATA_SET.search(s, max(0, m.start() - 30), m.start())  # a window: linear in the length
        if neg and not s[max(0, neg.start() - 10): neg.start()].rstrip().endswith("?"):
            chains.append([neg.start(), m.end(), 1])
        else:
            chains.append([m.start(), m.end(), 0])
    for a, b, negated in chains:
        if negated and _REFUSED_DATA_SET_END.match(s, b):
            s = s[:a] + " " * (b - a) + s[b:]
    return s


def _answered_with_classes(s: str) -> str:
    """``s`` with a class list asked about and answered no by another ("mnist 3 vs 8? no, 4 and 9", "3 vs 8, no: 4 and
    9", "? no, I mean 4 and 9") asking for the answer's classes: the "no" (it excluded the answer's classes, so the
    question's stayed: mnist[3,8]) and the question's classes blanked, as for an answer naming a data set ("svhn 3 vs
    8? no, 4 and 9" is mnist[4,9]). An answer that leaves classes out refines the question ("mnist 0 to 4? no, not 2"
    is mnist[0,1,3,4]), and one that names no class changes nothing."""
    for m in _CLASSES_ANSWERED.finditer(s):
        if (refine := _EXCLUDE.match(s, m.end())) and not re.match(r"all|every|any", refine.group(0)):
            continue  # "? no, not 2"; "? no, all digits but 2" is a class list of its own
        # the question is the sentence the "?" ends, or the clause before ", no," (and the answer the clause after:
        # "3 vs 8, no, 4, no, 5, ..." is linear in its length)
        marks = ".?!" if s[m.start()] == "?" else ".?!,;:"
        start = max(s.rfind(c, 0, m.start()) for c in marks) + 1
        answer = (_SENTENCE_REST if s[m.start()] == "?" else _CLAUSE_REST).match(s, m.end()).group(0)
        if _class_mentions(answer):
            s = _without_asked_classes(s, start, m.start(), answer)
            s = s[: m.start(1)] + " " * len(m.group(1)) + s[m.end(1):]
    return s


def _without_asked_classes(s: str, start: int, end: int, answer: str) -> str:
    """``s`` with the classes of the question ``s[start:end]`` blanked if the ``answer`` to it names classes too:
    "mnist 3 vs 8? no, fashion-mnist 4 and 9" asks for fashion-mnist[4,9] (it was [3,8,4,9]). The question's classes
    stay when the answer names none ("clothing 0 to 4? no, handwritten digits" is mnist[0-4])."""
    if not _class_mentions(answer):
        return s
    asked = s[start:end]
    counted = _blank_counts(asked)  # "2 layers" stays
    words = "|".join(["even", "odd", *_PLURAL_WORDS, *_NUMBER_WORDS])
    spans = [m.span() for m in re.finditer(r"\b\d+(?:'?s)?\b|\b(?:" + words + r")\b", counted)]
    spans += [m.span() for _, pattern in _FASHION_CLASSES for m in re.finditer(pattern, asked)]
    for a, b in spans:
        asked = asked[:a] + " " * (b - a) + asked[b:]
    return s[:start] + asked + s[end:]


def _class_mentions(part: str) -> list[tuple[int, int]]:
    """Where ``part`` names classes: fashion names, "even" / "odd", comparisons, numbers."""
    hits = _fashion_hits(part) + [(m.start(), 0) for m in re.finditer(r"\b(?:even|odd)\b", part)]
    try:
        return hits + [(m.start(), 0) for m in _COMPARISON.finditer(_blank_counts(part))] + _digit_hits(part)
    except TaskError:
        return hits + [(0, 0)]  # a class past the last one: a class all the same (its error comes later)


def _asked_for(pattern: re.Pattern, s: str) -> str | None:
    """The first word of ``pattern`` (group 2) in ``s`` that is not negated (group 1: "no noise"), or None. Noise
    words describing mnist1d ("noisy 1d signals") are the data set's own: its signals are generated noisy."""
    mnist1d = re.search(_MNIST1D_WORDS, s) is not None
    if pattern is _UNSUPPORTED:  # the "noise" of "don't use label noise", "noisy labels? no" is refused with it
        for m in _LABEL_NOISE.finditer(s):
            if m.group(1) is not None or _TRANSFORM_ANSWERED_NO.match(s, m.end()):
                s = s[: m.start()] + " " * (m.end() - m.start()) + s[m.end():]
    for m in pattern.finditer(s):
        # "noise? no" as "inverted? no": asked about and answered no (it was refused as a transform)
        if (m.group(1) is None and not (mnist1d and m.group(2).startswith("nois"))
                and not _TRANSFORM_ANSWERED_NO.match(s, m.end())):
            return m.group(2)
    return None


def _misspelt_fashion(s: str) -> str | None:
    """A word of ``s`` that is a near miss of "fashion" (not the word itself), or None."""
    for w in dict.fromkeys(re.findall(r"\b[a-z]{5,9}\b", s)):  # whole words, the first one named
        if (w != "fashion" and not _FASHION_DERIVED.fullmatch(w)
                and difflib.SequenceMatcher(None, w, "fashion").ratio() >= _NEAR_FASHION):
            return w
    return None


def _fashion_hits(s: str) -> list[tuple[int, int]]:
    """``(position, class id)`` of every fashion class name in ``s``."""
    s = re.sub(r"\btop[\s-]*\d+\b", lambda m: " " * len(m.group(0)), s)  # "top-1 accuracy" is not T-shirt/top
    hits: list[tuple[int, int]] = []
    for cid, pattern in _FASHION_CLASSES:
        for m in re.finditer(pattern, s):
            hits.append((m.start(), cid))
    return hits


def _fashion_classes(s: str) -> list[int]:
    return _ordered_unique(_fashion_hits(s))


def _unknown_names(s: str) -> list[str]:
    """Plural-looking words joined to a fashion class name in a list that are no class name themselves
    ("shirts, sneakers and hats": ``["hats"]``): most likely a class the data set does not have."""
    blanked = re.sub(r"\btop[\s-]*\d+\b", lambda m: " " * len(m.group(0)), s)
    spans = [m.span() for _, pattern in _FASHION_CLASSES for m in re.finditer(pattern, blanked)]
    inside = {i for a, b in spans for i in range(a, b)}
    found: list[tuple[int, str]] = []
    for a, b in spans:
        if after := _WORD_AFTER.match(s, b):
            found.append((after.start(1), after.group(1)))
        if before := _WORD_BEFORE.search(s, max(0, a - 60), a):  # a window: linear in the text's length
            found.append((before.start(1), before.group(1)))
    return list(dict.fromkeys(
        w for i, w in sorted(found) if i not in inside and _PLURALISH.fullmatch(w) and w not in _NOT_CLASS_WORDS))


def _names_listed(base: str) -> str:
    """``" (0 T-shirt/top, 1 Trouser, ...)"``: the class names of ``base``, or nothing when they are its ids."""
    names = CLASS_NAMES[base]
    if names == tuple(str(i) for i in range(len(names))):
        return ""
    return " (" + ", ".join(f"{i} {n}" for i, n in enumerate(names)) + ")"


def _out_of_range(base: str, bad: list[str]) -> TaskError:
    k = len(CLASS_NAMES[base])
    listed = _names_listed(base)
    which = f"class {bad[0]} is" if len(bad) == 1 else f"classes {', '.join(map(str, bad))} are"
    return TaskError(f"{which} out of range: {base} has classes 0-{k - 1}{listed}")


def _blank_counts(s: str) -> str:
    """``s`` with the numbers that are no class ids blanked out (same length): sizes like 28x28, decimals,
    percentages, "1d", seeds, settings like "batch size 64", counts like "10 classes" / "2-way" / "5 epochs"."""
    def blank(m: re.Match) -> str:
        # NULs, spaces only at the end: else the number before a blanked span reached the word after it ("3 vs 8 3x3
        # kernels", "3 and 8 loss below 1 ms": "8 kernels", "8 ms" were counts, so one class)
        return "\0" * len(m.group(0))

    # (?<!\d): a number starts at its first digit (else every digit of a long run began a match: quadratic)
    # "28 by 28" only with equal sides: "3 by 8" may be two classes; "1e-4" before the decimals take its "1."
    for pattern in (
        r"\b\d+\s*[x×]\s*\d+\b|\b(\d+)\s+by\s+\1\b", r"\b\d+(?:\.\d+)?e[+-]?\d+\b", r"(?<!\d)\d+(?:\.\d+)?\s*%",
        r"(?<!\d)\d+\.\d+", r"(?<=mnist)[\s_-]*1[\s-]*d\b", r"\b1[\s-]?d\b", r"\b\w+[\s-]+(?:class(?:es)?|way)\b",
        # "seed=3", "seeds 1, 2 and 3" too (the last number was a class)
        r"\bseed\s*(?:[=:]\s*)?\d+|\bseeds\s*(?:[=:]\s*)?\d+(?:\s*(?:,\s*)?(?:(?:and|or|&)\s*)?\d+)*", _SCORE_COMPARED,
        _SETTINGS, _BETWEEN_COUNTS,
    ):
        s = re.sub(pattern, blank, s)
    s = _COUNT_LIST.sub(lambda m: _counted(m) if _COUNTED_AFTER.match(m.string, m.end())
                        and _LIST_END_AT.match(m.string, m.start() + _last_item(m.group(0))) else m.group(0), s)
    # layer widths ("an mlp 784-128-10"): three or more numbers joined by "-", one past 9 ("range '784-128' goes past")
    s = re.sub(r"\b\d+(?:-\d+){2,}\b", lambda m: blank(m) if re.search(r"\d\d", m.group(0)) else m.group(0), s)
    return re.sub(_COUNTS, blank, s).replace("\0", " ")


def _last_item(said: str) -> int:
    """Where the last number of a :data:`_COUNT_LIST` match starts in it (the one a count word follows)."""
    return [i.start() for i in re.finditer(_NUMBER_ITEM, said)][-1]


def _counted(m: re.Match) -> str:
    """The :data:`_COUNT_LIST` match ``m`` (before a counted word) with its numbers that count blanked (NULs, as in
    :func:`_blank_counts`): all of them, but none before a dash or arrow down to a smaller number that may be a class
    ("mnist 3 vs 8 - 2 layers": it separates two phrases, no range runs downwards, as in :mod:`.arch_text`; the 8 was
    blanked, leaving the one class 3; "1000/200 samples" counts both: its 1000 was no class). The first such dash
    separates: "mnist 3 vs 8 - 2 - 1 layers" keeps the 8 (its "8 - 2" was a backwards digit range; :mod:`.arch_text`
    refuses the two depths)."""
    said = m.group(0)
    items = list(re.finditer(_NUMBER_ITEM, said))
    start = 0
    for a, b in zip(items, items[1:]):
        values = [_NUMBER_WORDS.index(w) if w in _NUMBER_WORDS else int(w) if w.isdigit() and len(w) < 10 else None
                  for w in (a.group(0), b.group(0))]
        if None not in values and 10 > values[0] >= values[1] and re.fullmatch(r"\s*(?:-+>|=+>|→|[-/])\s*",
                                                                               said[a.end():b.start()]):
            start = b.start()
            break
    return said[:start] + "\0" * (len(said) - start)


def _both_ends_out(text: str, s: str) -> str:
    """``s`` with each range said to leave out both its ends ("3 to 8, both exclusive", "3-8 exclusive at both ends")
    written as the classes in between (" 4 to 7 ", same length); they were 3 to 8. A TaskError if none are between."""
    for m in _EXCLUSIVE.finditer(_blank_counts(s)):
        a, b = _number(m.group(1)), _number(m.group(2))
        if not (m.group("both") or m.group("both_after")) or a >= b or b > max(map(len, CLASS_NAMES.values())):
            continue  # a backwards range, or one past every class, gets its error as written where ranges are read
        if a + 1 > b - 1:
            raise TaskError(f"{text!r}: {m.group(0).strip()!r} leaves no class between {a} and {b}; a task needs at "
                            "least 2: name them, e.g. 'digits 3 and 8' or 'sneakers and boots'")
        s = s[: m.start()] + (f" {a + 1} to {b - 1} " if a + 1 < b - 1 else f" {a + 1} ").ljust(len(m.group(0))) \
            + s[m.end():]
    return s


def _number(word: str) -> int:
    """``"5"``, ``"5s"``, ``"5's"`` or ``"five"`` as 5."""
    return _NUMBER_WORDS.index(word) if word in _NUMBER_WORDS else digits_value(word.rstrip("'s"))


def _comparisons_as_ranges(text: str, s: str, base: str) -> str:
    """``s`` with every comparison of class ids ("greater than 5", "<= 3", "up to 4") written as the range of
    ``base``'s classes it means ("6 to 9"); two joined by "and" that overlap ("above 2 and below 7") are the classes
    of both ("3 to 6": their union would be every class), others add up ("below 3 and above 7"). A TaskError for one
    that names no class or goes past the last one, and for "between 3 and 7" (are 3 and 7 in?)."""
    k = len(CLASS_NAMES[base])
    blanked = _blank_counts(s)
    if m := _BETWEEN.search(blanked):
        a, b = (m.group(i).lstrip("0") or "0" if m.group(i)[0].isdigit() else _number(m.group(i)) for i in (1, 2))
        raise TaskError(
            f"{text!r}: {m.group(0).strip()!r} does not say whether {a} and {b} are in; write the range of classes, "
            f"e.g. '{base} {a} to {b}' (both in)"
        )
    m = _EXCLUSIVE.search(blanked)
    a, b = (_number(m.group(1)), _number(m.group(2))) if m else (0, 0)
    # "0 to 9 exclusive of 5" leaves out 5, no end (an exclusion: _EXCLUDE): it was asked which ends are out
    of = _EXCLUSIVE_OF.match(blanked, m.end()) if m else None
    if of and not (of.group(1) and _number(of.group(1)) in (a, b)):
        m = None
    if m and a < b <= len(CLASS_NAMES[base]):  # a backwards range, or one past every class, gets its error below
        said = f"{m.group(0)[: m.end(2) - m.start()]} {m.group('word')}"
        ways = [f"'{base} {lo} to {hi}'" for lo, hi in ((a, b - 1), (a + 1, b - 1)) if lo < hi]  # a task: 2 classes
        raise TaskError(f"{text!r}: {said!r} does not say which ends are left out; write the classes that are in"
                        + (f", e.g. {' or '.join(ways)}" if ways else " (a task needs at least 2)"))
    found: list[list[int]] = []  # [start, end, lo, hi, 1 for a lower bound ("above 2") else 0]
    seen_to = 0
    for m in sorted([*_COMPARISON.finditer(blanked), *_COMPARED_AFTER.finditer(blanked)], key=lambda m: m.start()):
        if m.start() < seen_to:
            continue  # "above 5 and above": the number of one comparison is that of the one before
        seen_to = m.end()
        before = re.search(r"\b\d+\s+(?:and\s+)?$", blanked[max(0, m.start() - 20): m.start()])  # a window
        if (m.group(0).startswith("up") and before
                and not (found and found[-1][1] > m.start() - len(before.group(0)))  # not "above 5 up to 8"
                # not "4, 6 and up to 2": 6 and 0-2 (it was "range '6 to 2' runs backwards")
                and not (before.group(0).split()[-1] == "and"
                         and digits_value(before.group(0).split()[0]) > _number(m.group("n")))):
            # "from 3 up to 7" is the range 3 to 7 (it was 3 and 0 to 7): left to the ranges with "up" blanked
            cut = m.start() - len(before.group(0)) + len(before.group(0).split()[0])
            s = s[:cut] + " " * (m.start() + 2 - cut) + s[m.start() + 2:]
            continue
        n = m.group("n")
        after = _WORD.match(blanked, m.end())
        if after and after.group(1) not in _AFTER_COMPARED:
            continue  # "more than 1000 images", "at least 2 convs": a count of something, no class ids compared
        if _COMPARED_NOT_CLASSES.search(s, max(0, m.start() - 60), m.start()):  # a window: linear in the length
            continue
        n = _number(n)
        bounds = {"gt": (n + 1, k - 1), "ge": (n, k - 1), "lt": (0, n - 1), "le": (0, n)}
        kind = next((kind for kind in bounds if m.groupdict().get(kind) is not None), "ge")  # "5 onwards": ge
        (lo, hi), lower = bounds[kind], int(kind in ("gt", "ge"))
        if lo > hi or hi >= k:
            problem = f"goes past {k - 1}" if hi >= k or n >= k else "names no class"
            raise TaskError(
                f"{text!r}: {m.group(0).strip()!r} {problem}: {base} has classes 0-{k - 1}{_names_listed(base)}; "
                f"name a range of them, e.g. '{base} 6 to 9'"
            )
        prev = found[-1] if found else None
        if (prev and re.fullmatch(r"\s*(?:,\s*)?(?:(?:and|but|&)\s*)?", blanked[prev[1]: m.start()])
                and prev[4] == 1 - lower and max(prev[2], lo) <= min(prev[3], hi)):
            prev[1:4] = [m.end(), max(prev[2], lo), min(prev[3], hi)]  # a lower and an upper bound: one range
            prev[4] = -1  # taken: a third bound adds up ("above 2 and below 7 and 9")
        else:
            found.append([m.start(), m.end(), lo, hi, lower])
    for start, end, lo, hi, _ in reversed(found):  # from the end: the spans before stay where they are
        s = s[:start] + (f" {lo} to {hi} " if lo < hi else f" {lo} ") + s[end:]
    return s


def _digit_hits(s: str, base: str = "mnist", excluded: bool = False) -> list[tuple[int, int]]:
    """``(position, class id)`` of every class number in ``s``; numbers past the last class of ``base`` raise.
    ``excluded``: ``s`` is what an exclusion leaves out, so a number word starting it is a class ("without five")."""
    k = len(CLASS_NAMES[base])
    unblanked, s = s, _blank_counts(s)  # "class" is blanked as a count ("mnist class five"): found in the text as is
    hits: list[tuple[int, int]] = []
    taken = [False] * len(s)
    words = "|".join(_NUMBER_WORDS)
    for m in re.finditer(rf"\b(\d+|{words})\s*(?:-|to|through|thru)\s*(\d+|{words})(?:'?s)?\b", s):
        a, b = (_number(m.group(i)) for i in (1, 2))  # "zero to four" too: it was no class, so all of them
        written = " ".join(m.group(0).split())  # "3 up to 7" is "3    to 7" here
        if max(a, b) >= k:  # else "0 to 12" would read as classes 0 and 1
            raise TaskError(f"range {written!r} goes past {k - 1}; {base} has classes 0-{k - 1}")
        if a > b:
            raise TaskError(f"digit range {written!r} runs backwards; write it as {b} to {a}")
        if a == b and not m.group(1).isdigit():
            continue  # "one-to-one" names no range
        hits += [(m.start() + i, c) for i, c in enumerate(range(a, b + 1))]
        taken[m.start(): m.end()] = [True] * (m.end() - m.start())
    bad: list[str] = []  # as written: a number of 5,000 digits is no int to print
    for m in re.finditer(r"\b(\d+)('?s)?\b", s):
        if taken[m.start()]:
            continue
        number = digits_value(m.group(1))
        if len(m.group(1)) > 1 and not m.group(2) and _QUANTITY.match(s, m.end()):
            continue  # "1000 images", "20 minutes", "10 digits": a quantity, not a class id
        if number >= k:
            bad.append(m.group(1).lstrip("0"))
        else:
            hits.append((m.start(), number))
    if bad:
        raise _out_of_range(base, list(dict.fromkeys(bad)))
    for m in re.finditer(r"\b(" + "|".join(_PLURAL_WORDS) + r")\b", s):
        hits.append((m.start(), _PLURAL_WORDS[m.group(1)]))
    for run in _NUMBER_LIST.finditer(s):  # a count ("two or three layers") is blanked above
        for m in re.finditer(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", run.group(0)):
            hits.append((run.start() + m.start(), _NUMBER_WORDS.index(m.group(1))))
    for m in _CLASS_NOUN_NUMBER.finditer(unblanked):
        if s[m.start(1): m.end(1)] == m.group(1):  # not a count ("digit one hidden layer")
            hits.append((m.start(1), _NUMBER_WORDS.index(m.group(1))))
    if excluded and (m := _EXCLUDED_NUMBER.match(s)):
        hits.append((m.start(1), _NUMBER_WORDS.index(m.group(1))))
    return hits


def _digit_classes(s: str, base: str = "mnist", excluded: bool = False) -> list[int]:
    classes = _ordered_unique(_digit_hits(s, base, excluded))
    if not classes:
        if re.search(r"\beven\b", s) and re.search(r"\bodd\b", s):  # else "even vs odd" read as the 5 even digits
            raise TaskError(
                "even against odd (parity) would merge digits into 2 classes, which no task does (its classes are "
                "single digits); say 'even digits' (0,2,4,6,8), 'odd digits' (1,3,5,7,9), or list the digits"
            )
        if re.search(r"\beven\b", s):
            classes = [0, 2, 4, 6, 8]
        elif re.search(r"\bodd\b", s):
            classes = [1, 3, 5, 7, 9]
    return classes


def _about(text: str, find, *args):
    """``find(*args)``, with the text named in a TaskError it raises."""
    try:
        return find(*args)
    except TaskError as e:
        raise TaskError(f"{text!r}: {e}") from None


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


def _check_class_count(text: str, m: re.Match, base: str, classes: list[int]) -> None:
    """Raise unless the classes found (all of ``base``'s if none) are as many as ``m`` ("binary", "5-class") says."""
    k = len(CLASS_NAMES[base])
    digits = m.group(1) is not None and m.group(1).isdigit()
    want = 2 if m.group(1) is None else digits_value(m.group(1)) if digits else _COUNT_WORDS.index(m.group(1))
    shown = m.group(1).lstrip("0") or "0" if digits else want  # as written: 5,000 digits are no int to print
    got = len(classes) or k
    if want == got:
        return
    if want <= 2:
        example = "sneakers vs boots" if base == "fashion-mnist" else f"{base} 3 vs 8"
    else:
        example = f"{base} 0 to {min(max(want, 2), k) - 1}"
    found = f"names {got} classes" if classes else f"names no classes, which means all {k} of {base}"
    limit = f"; a task has 2 to {k} classes" if not 2 <= want <= k else ""
    raise TaskError(
        f"{text!r}: {m.group(0)!r} asks for {shown} class{'es' if want != 1 else ''} but the text {found}{limit}; "
        f"name the classes, e.g. '{example}'"
    )


def _name_then_network(text: str) -> str | None:
    """The task name that starts ``text`` when the rest names a network and no part of a task ("mnist[3,8] with hidden
    sizes [64, 32]", "mnist[0-4]+invert, a 2-layer mlp": :func:`metanet.generate` reads the network; they were a bad
    task name), else None: the name's grammar error stands ("mnist[3,8] inverted")."""
    head = re.match(r"(\S+?)[,;:]?\s+(.*)", text, re.S)  # "mnist[3,8], a 2-layer mlp" too
    try:
        spec = parse_spec(head.group(1)).canonical if head else None
    except TaskError:
        return None
    rest = blank_arch_words(_normalise(head.group(2))) if spec else ""
    if not spec or "[" in rest or "+" in rest:
        return None
    s, transforms, _ = _take_transforms(rest)
    if (transforms or _AMBIGUOUS_SHUFFLE.search(s) or _OTHER_DATA_SETS.search(s) or _data_set_named(s)
            or _fashion_hits(s) or _COLOUR_CHANNELS.search(s) or _IMAGE_SIZE.search(s) or _CLASS_COUNT.search(s)
            or _asked_for(_LABEL_NOISE, s) or _asked_for(_UNSUPPORTED, s) or re.search(r"\b(?:even|odd)\b", s)):
        return None
    try:
        return None if _digit_classes(s) or _comparisons_as_ranges(text, s, "mnist") != s else spec
    except TaskError:
        return None


def text_to_spec(text: str) -> str:
    """The task name that :func:`parse` would load for ``text`` (no data is loaded)."""
    if not isinstance(text, str):
        raise TaskError(f"parse needs a string, got {type(text).__name__}; it understands {UNDERSTOOD}")
    stripped = text.strip()
    if not stripped:
        raise TaskError(f"empty task description; it understands {UNDERSTOOD}")
    if len(stripped) > _MAX_TEXT:  # before the grammar too: its message would quote the whole text
        raise TaskError(
            f"a task description of {len(stripped):,} characters ({stripped[:40]!r}...) is too long; at most "
            f"{_MAX_TEXT:,} are read: describe the task in a sentence, e.g. 'digits 3 and 8', or name it, e.g. "
            "'mnist[3,8]'"
        )
    single_token = not re.search(r"\s", stripped)
    try:
        return parse_spec(stripped).canonical
    except TaskError as e:
        # "hidden_sizes=[128, 64] on mnist": the brackets of a network's widths name no task (they are blanked)
        bare = blank_arch_words(_normalise(stripped))
        if "[" in bare or "+" in stripped or (single_token and "(" in stripped):
            if (named := _name_then_network(stripped)) is not None:
                return named
            raise
        grammar_error = e
    try:  # "mnist 3/8 channels", "hidden 32.5": widths or classes? (they were all of mnist, the one class 5)
        check_width_numbers(stripped)
    except ArchError as e:
        raise TaskError(str(e)) from None
    # "3 hidden layers of 32", "kernel size 5": a network's sizes, no classes (metanet.generate reads them)
    s, transforms, unseeded = _take_transforms(bare)
    if unseeded and (m := _LEFT_SEED.search(s)):  # else seed 0, silently
        raise TaskError(
            f"{text!r}: {m.group(0)!r} follows no transform, and {unseeded[0]!r} has no seed; write the seed right "
            f"after the transform, e.g. '{unseeded[0]} seed 3' (a training seed is no part of a task)"
        )
    if m := _AMBIGUOUS_SHUFFLE.search(s):
        raise TaskError(
            f"{text!r} says {m.group(0)!r} but not what: write '{m.group(0)} pixels' (+permute(SEED)) or "
            f"'{m.group(0)} labels' (+relabel(SEED)), optionally followed by 'seed N'"
        )
    asked = s
    for m in _OTHER_DATA_SETS.finditer(asked):
        if _NOT_THIS_DATA_SET.search(asked, max(0, m.start() - 40), m.start()):
            continue
        if answer := (_NOT_THIS_DATA_SET_AFTER.match(asked, m.end())
                      or _NOT_THIS_DATA_SET_NAMES_AFTER.match(asked, m.end())):
            # its "no" answers the question, it excludes no classes ("letters? no, digits 3 and 8" was all but 3, 8)
            s = s[: answer.start(1)] + " " * len(answer.group(1)) + s[answer.end(1):]
            asked_at = max(s.rfind(c, 0, m.start()) for c in ".?!") + 1  # "svhn 3 vs 8? nope mnist 4 and 9": [4, 9]
            s = _without_asked_classes(s, asked_at, answer.start(1), re.match(r"[^.?!]*", s[answer.end(1):]).group(0))
            continue
        word = m.group(1)
        close = difflib.get_close_matches(word, BASE_NAMES, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise TaskError(
            f"unknown data set {word!r} in {text!r}{hint}; available: {', '.join(BASE_NAMES)}; "
            f"parse() understands {UNDERSTOOD}"
        )
    s = _without_refused_data_sets(_answered_with_classes(_answered_with_another(s)))
    if not re.search(_FASHION_WORDS, s) and (typo := _misspelt_fashion(s)):
        raise TaskError(
            f"unknown data set word {typo!r} in {text!r} (did you mean fashion-mnist?); available: "
            f"{', '.join(BASE_NAMES)}; parse() understands {UNDERSTOOD}"
        )
    if word := _asked_for(_LABEL_NOISE, s):
        raise TaskError(
            f"{text!r}: {word!r} is no task transform: a task's labels are its classes' (a zoo recipe's "
            "train.label_noise trains with noisy labels); the transforms are 'inverted', 'permuted pixels seed N' and "
            "'shuffled labels seed N' (a fixed permutation of the classes)"
        )
    if word := _asked_for(_UNSUPPORTED, s):
        raise TaskError(
            f"{text!r}: {word!r} is no task transform (no task changes its images that way or tests robustness to "
            "it); the transforms are 'inverted', 'permuted pixels seed N' and 'shuffled labels seed N' (inputs are "
            "grey levels scaled to [0, 1])"
        )
    if m := _GLUED_NAME.search(s):
        raise TaskError(
            f"{text!r}: {m.group(0)!r} is not understood; put a space between the data set name and a class "
            "number, e.g. 'mnist 3 and 8'"
        )
    if m := _BY_POSITION.search(s) or _BY_RANK.search(s):
        raise TaskError(
            f"{text!r}: {m.group(0)!r} is not understood: a task keeps every example of the classes it names, and "
            "names classes by label, not by position or rank; name the classes, e.g. 'digits 0 to 4' or 'sneakers and "
            "boots'"
        )

    if m := _CLASS_ARROW.search(_blank_counts(s)):  # not "2 -> 4 layers"
        a, b = sorted((m.group(i).lstrip("0") or "0" if m.group(i)[0].isdigit() else str(_number(m.group(i)))
                       for i in (1, 2)), key=lambda v: (len(v), v))  # as strings: int() refuses 5,000 digits
        named = _data_set_named(s) or ("fashion-mnist" if _fashion_hits(s) else "mnist")
        raise TaskError(
            f"{text!r}: {' '.join(m.group(0).split())!r} may be the classes {m.group(1)} to {m.group(2)} or class "
            f"{m.group(1)} relabelled {m.group(2)}, and no task maps one class to another; write the classes, e.g. "
            f"'{named} {a} to {b}' ('+relabel(SEED)' shuffles them all)")
    s = _both_ends_out(text, s)
    fashion_hits = _fashion_classes(s)
    digit_hits: list[int] | None = None
    base = _data_set_named(s) or ("fashion-mnist" if fashion_hits else None)
    if base is None:
        if _comparisons_as_ranges(text, s, "mnist") != s:  # "seed must be >= 0" is no task: a comparison alone
            raise TaskError(f"{text!r} compares class ids but names no data set; name it, e.g. 'mnist digits "
                            f"greater than 5' or 'fashion classes above 6'; parse() understands {UNDERSTOOD}")
        digit_hits = _about(text, _digit_classes, s)
        if not digit_hits:
            hint = f" ({grammar_error})" if single_token else ""
            raise TaskError(f"could not tell which task {text!r} describes{hint}; parse() understands {UNDERSTOOD}")
        base = "mnist"
    if base == "fashion-mnist" and (m := _FOOTWEAR.search(s)):
        raise TaskError(
            f"{text!r}: {m.group(0)!r} is no class of fashion-mnist: its footwear is 5 Sandal, 7 Sneaker and 9 Ankle "
            "boot; name the ones meant, e.g. 'sandals, sneakers and boots' or 'clothing except sandals, sneakers and "
            "boots'"
        )
    for m in _IMAGE_SIZE.finditer(s):
        # as strings: int() refuses 5,000 digits
        sides = [m.group(i).lstrip("0") or "0" for i in ((1, 2) if m.group(1) else (3, 4))]
        if all(len(v) > 1 or v >= "8" for v in sides) and "x".join(sides) != _IMAGE_SIZES[base]:
            own = f"{_IMAGE_SIZES[base]} images" if _IMAGE_SIZES[base] else "signals of 40 values, no images"
            raise TaskError(
                f"{text!r}: {m.group(0)!r} is not the input size of {base} ({own}), and no task resizes its inputs; "
                "the sizes are 28x28 (mnist, fashion-mnist), 8x8 (digits) and 40 values (mnist1d)"
            )
    if m := _COLOUR_CHANNELS.search(s):
        own = f"{_IMAGE_SIZES[base]} grey images" if _IMAGE_SIZES[base] else "signals of 40 values"
        raise TaskError(
            f"{text!r}: {m.group(0)!r} is not the input of {base}, whose inputs have 1 channel ({own}), and no task "
            "has colour inputs; drop it or say '1-channel'"
        )

    s = _comparisons_as_ranges(text, s, base)

    def classes_in(part: str, excluded: bool = False) -> list[int]:
        if base == "fashion-mnist":  # names and numbers, in the order mentioned: "sneakers and 9" is [7, 9]
            names = _fashion_hits(part)
            if names:
                if unknown := _unknown_names(part):
                    listed = ", ".join(f"{i} {n}" for i, n in enumerate(CLASS_NAMES[base]))
                    raise TaskError(
                        f"{text!r}: {', '.join(map(repr, unknown))} "
                        f"{'is not a class' if len(unknown) == 1 else 'are not classes'} of fashion-mnist; its "
                        f"classes are {listed}"
                    )
                return _ordered_unique(names + _about(text, _digit_hits, part, base, excluded))
        return _about(text, _digit_classes, part, base, excluded)

    k = len(CLASS_NAMES[base])
    if m := _ALL_BUT_ONE.search(s):
        raise TaskError(
            f"{text!r}: {m.group(0).strip()!r} may leave out any one class or class 1; name the class left out as a "
            f"number, e.g. '{base} without 1', or the classes kept, e.g. '{base} 0 to {k - 2}'"
        )
    exclude = _EXCLUDE.search(s)
    dropped: list[int] = []
    if exclude is None:
        classes = classes_in(s)
    else:  # "mnist 0 to 4 except 2": classes before the exclusion (all if none) minus the ones after it
        classes = classes_in(s[: exclude.start()])
        dropped = classes_in(s[exclude.end():], excluded=True)
        if dropped:
            classes = [c for c in classes or range(len(CLASS_NAMES[base])) if c not in dropped]
            if len(classes) < 2:
                raise TaskError(
                    f"{text!r} leaves {len(classes)} class(es) of {base} after excluding {dropped}; "
                    "a task needs at least 2"
                )
    if ((m := _LONE_NUMBER_AFTER_NAME.search(s)) and _blank_counts(s)[m.start("n"): m.end("n")] == m.group("n")
            and _NUMBER_WORDS.index(m.group("n")) not in classes + dropped):  # no count ("mnist, one epoch")
        n = _NUMBER_WORDS.index(m.group("n"))
        pair = (n, n + 1) if n + 1 < k else (n - 1, n)
        count = f" or '{base} 0 to {n - 1}' ({n} classes)" if n >= 2 else ""
        raise TaskError(
            f"{text!r}: {m.group('n')!r} may name class {n} (a task needs at least 2) or a number of classes; "
            f"name the classes, e.g. '{base} {pair[0]} and {pair[1]}'{count}"
        )
    if len(classes) == 1:
        raise TaskError(
            f"{text!r} names only one class ({CLASS_NAMES[base][classes[0]]}); a task needs at least 2, e.g. "
            "'digits 3 and 8' or 'sneakers and boots'"
        )
    for m in _CLASS_COUNT.finditer(s):
        _check_class_count(text, m, base, classes)
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
