"""Free text: "hidden 2 x 64" and "hidden 2x64" are 2 hidden layers of 64 units, as "2x64 hidden" and "hidden 64 x 2"
are ("mnist hidden 2 x 64" was the widths (2,) and "class 64 is out of range", "mnist hidden 2x64" the default mlp)."""

from __future__ import annotations

import pytest

from metanet.errors import ArchError
from metanet.tasks.arch_text import arch_from_words, arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec", [
    ("mnist hidden 2 x 64", "mnist"),
    ("mnist hidden 2x64", "mnist"),
    ("mnist hidden 2 × 64", "mnist"),
    ("mnist hidden 2*64 units", "mnist"),
    ("mnist 3 vs 8 hidden 2 x 64", "mnist[3,8]"),
    ("mnist hidden 2 x 64, 3 and 8", "mnist[3,8]"),  # a class list after the width: classes (the 64 was one)
])
def test_digit_x_width_after_hidden_is_a_depth_and_a_width(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
    words = arch_words(text)
    assert words == {"hidden_layers": 2, "widths": (64,)}
    k = 2 if "[" in spec else 10
    assert str(arch_from_words(words, (1, 28, 28), k)) == f"mlp:784-64-64-{k}:relu"


def test_same_network_as_the_other_repeat_phrasings() -> None:
    assert arch_words("mnist hidden 2 x 64") == arch_words("mnist 2x64 hidden") == arch_words("mnist hidden 64 x 2")


@pytest.mark.parametrize("text, words", [
    ("mnist hidden 64 x 2, 3 and 8", {"widths": (64,)}),  # a class list goes on from the digit: the 2 is a class
    ("mnist hidden 12 x 64", {"widths": (12, 64)}),  # two widths, no count of one digit
    ("mnist hidden 2 x 64 epochs", {"widths": (2,)}),  # the 64 counts epochs
])
def test_not_read_as_a_repeat(text: str, words: dict) -> None:
    assert arch_words(text) == words


def test_digit_x_width_before_layers_stays_an_error() -> None:
    # "hidden 2 x 64 layers": 64 layers of 2? not read as 2 layers of 64
    with pytest.raises(ArchError, match="two different widths"):
        arch_words("mnist hidden 2 x 64 layers")
