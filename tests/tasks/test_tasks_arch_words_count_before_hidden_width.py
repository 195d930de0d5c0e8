"""Free text: "N hidden W" (N one digit that the task parser counts, not a class) is N hidden layers of W, as "N hidden
layers of W" is ("mnist 3 vs 8 - 2 hidden 32" was mlp:784-32-2, its 2 dropped; "with 3 hidden = 64" lost its 3 too).
A digit that ends a class list or range stays a class ("mnist 3 vs 8 hidden 32", "mnist 0 - 4 hidden 32")."""

from __future__ import annotations

import pytest

from metanet.errors import ArchError
from metanet.tasks.arch_text import arch_from_words, arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec, n, width", [
    ("mnist 3 vs 8 - 2 hidden 32", "mnist[3,8]", 2, 32),  # a dash down separates
    ("mnist 3 vs 8 - 2 hidden = 32", "mnist[3,8]", 2, 32),
    ("mnist 4 vs 8 with 3 hidden = 64", "mnist[4,8]", 3, 64),
    ("mnist 3 and 8 with 2 hidden = 64", "mnist[3,8]", 2, 64),
    ("mnist 2 hidden 32", "mnist", 2, 32),
    ("mnist 3 hidden 64", "mnist", 3, 64),
    ("a 2 hidden 64 mlp on mnist", "mnist", 2, 64),
])
def test_count_before_hidden_width(text: str, spec: str, n: int, width: int) -> None:
    assert text_to_spec(text) == spec
    words = arch_words(text)
    assert {k: v for k, v in words.items() if k != "family"} == {"hidden_layers": n, "widths": (width,)}
    k = 2 if "[" in spec else 10
    assert str(arch_from_words(words, (1, 28, 28), k)) == f"mlp:784-{'-'.join([str(width)] * n)}-{k}:relu"


@pytest.mark.parametrize("text, spec", [
    ("mnist 3 vs 8 hidden 32", "mnist[3,8]"),  # is 8 a class or a count? a class: it ends the list
    ("mnist 3 and 8 hidden 32", "mnist[3,8]"),
    ("mnist 3 to 8 hidden 32", "mnist[3-8]"),
    ("mnist 0 - 4 hidden 32", "mnist[0-4]"),  # a spaced range up
    ("mnist 3 8 hidden = 32", "mnist[3,8]"),
    ("digits 3 and 8, 2 hidden 32", "mnist[3,8,2]"),  # the task parser reads the 2 as a class: so no depth here
])
def test_class_before_hidden_width_is_no_depth(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
    assert arch_words(text) == {"widths": (32,)}


def test_no_width_after_it_no_depth() -> None:
    assert arch_words("mnist 2 hidden 32 epochs") is None  # "32 epochs" counts epochs: no width, so no depth either


def test_a_depth_said_twice_must_agree() -> None:
    assert arch_words("mnist 2 hidden 64 x 2") == {"hidden_layers": 2, "widths": (64,)}
    with pytest.raises(ArchError, match="two different depths"):
        arch_words("mnist 3 hidden 64 x 2")
    with pytest.raises(ArchError, match="3 hidden layers but 2 widths"):
        arch_from_words(arch_words("mnist 3 hidden 32 16"), (1, 28, 28), 10)
