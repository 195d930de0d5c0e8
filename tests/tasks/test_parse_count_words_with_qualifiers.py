"""Numbers before a count noun with up to two qualifier words ("10 warmup epochs", "5 random seeds", "3 more training
runs") count something: no class is taken from them, as :mod:`metanet.tasks.arch_text` takes no width from them."""
import re

import pytest

from metanet.errors import TaskError
from metanet.tasks import text_to_spec
from metanet.tasks.arch_text import arch_words


@pytest.mark.parametrize("text, spec", [
    # were "class 10 is out of range" / "names only one class (5)"
    ("mnist 10 warmup epochs", "mnist"),
    ("mnist 10 more epochs", "mnist"),
    ("mnist 5 random seeds", "mnist"),
    ("mnist 7 extra seeds", "mnist"),
    ("mnist 500 extra training examples", "mnist"),
    ("mnist 1000 more images", "mnist"),
    ("mnist hidden 128, 10 warmup epochs", "mnist"),
    ("mnist hidden 128, 64 and 5 random seeds", "mnist"),
    ("mnist hidden 64/32 with 5 random seeds", "mnist"),
    ("mnist 3 and 8, 10 warm-up epochs", "mnist[3,8]"),
    ("mnist 3 vs 8, 50 more labelled examples", "mnist[3,8]"),
    ("mnist 0 through 4 and 20 total epochs", "mnist[0-4]"),
    ("fashion-mnist 0-4 with 10 warmup epochs", "fashion-mnist[0-4]"),
    # a single digit before the count was a third class
    ("mnist 3 vs 8, 5 more epochs", "mnist[3,8]"),
    ("mnist 3, 5 and 8 with 2 random seeds", "mnist[3,5,8]"),
    ("mnist 1 versus 7 and 3 validation runs", "mnist[1,7]"),
    ("fashion-mnist 2 vs 7 3 extra training epochs", "fashion-mnist[2,7]"),
    ("mnist 3 vs 8 with 2 more conv layers", "mnist[3,8]"),
    ("mnist 3 vs 8 at least 5 more epochs", "mnist[3,8]"),
    # unchanged: no count noun after the qualifier, or three qualifiers
    ("digits 0-4 and 2 extra runs", "mnist[0-4]"),
    ("mnist 3 vs 8, 5 more", "mnist[3,8,5]"),
    ("mnist 3 vs 8 random", "mnist[3,8]"),
])
def test_qualified_count_is_no_class(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec


def test_widths_kept_beside_a_qualified_count() -> None:
    assert arch_words("mnist hidden 64, 32, 3 more training runs") == {"widths": (64, 32)}
    assert text_to_spec("mnist hidden 64, 32, 3 more training runs") == "mnist"


def test_a_lone_class_before_a_qualifier_without_a_count_still_refused() -> None:
    with pytest.raises(TaskError, match=r"only one class \(5\)"):
        text_to_spec("mnist 5 more")


def test_one_shared_qualifier_pattern() -> None:
    # the parser and arch_text read the same words: one pattern, not two copies that drift apart
    import importlib

    from metanet.tasks.arch_text import COUNT_QUALIFIERS
    parse = importlib.import_module("metanet.tasks.parse")  # the module (metanet.tasks.parse is a function)
    assert COUNT_QUALIFIERS in parse._COUNTED and COUNT_QUALIFIERS in parse._QUANTITY.pattern
    assert re.fullmatch(COUNT_QUALIFIERS, "warm-up more ") and not re.fullmatch(COUNT_QUALIFIERS, "a b c ")
