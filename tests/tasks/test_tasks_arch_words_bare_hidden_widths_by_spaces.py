"""Free text: "hidden 32 16" and "hidden 32 x 16" are two hidden layers of 32 and 16 units (the 16 was read as a class,
out of range). A number that counts something ("hidden 32 16 epochs") or may be a class (one digit: "hidden 32 3")
is no width."""

from __future__ import annotations

import pytest

from metanet.tasks.arch_text import arch_from_words, arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec", [
    ("mnist hidden 32 16", "mnist"),
    ("mnist hidden 32 x 16", "mnist"),
    ("mnist hidden 32 × 16", "mnist"),
    ("mnist 3 and 8 hidden 32 16", "mnist[3,8]"),
    ("digits 0-4 with hidden 32 x 16, 10 shots", "mnist[0-4]"),
])
def test_two_widths_after_hidden(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
    words = arch_words(text)
    assert words == {"widths": (32, 16)}
    k = {"mnist": 10, "mnist[3,8]": 2, "mnist[0-4]": 5}[spec]
    assert str(arch_from_words(words, (1, 28, 28), k)) == f"mlp:784-32-16-{k}:relu"


@pytest.mark.parametrize("text, widths", [
    ("mnist hidden 32 16 epochs", (32,)),
    ("mnist hidden 64 10 shots", (64,)),
    ("mnist 3 vs 8 hidden 32 5", (32,)),
])
def test_numbers_that_are_no_second_width(text: str, widths: tuple[int, ...]) -> None:
    assert arch_words(text) == {"widths": widths}
