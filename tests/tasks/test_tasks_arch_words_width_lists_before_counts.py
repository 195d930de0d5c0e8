"""A list of widths ends before numbers that count something else ("a layer with 1-2 epochs", "layers of 64, then 3
to 5 seconds", "2 hidden layers of 64, 90% accuracy"): they were read as widths (mlp:784-1-2-10, 784-64-3-10, ...)."""

from __future__ import annotations

import pytest

from metanet.tasks.arch_text import arch_from_words, arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, words", [
    ("mnist a layer with 1-2 epochs", None),
    ("mnist layers of 64, then 3 to 5 seconds", {"widths": (64,)}),
    ("mnist 2 hidden layers of 64, 10 epochs", {"widths": (64,), "hidden_layers": 2}),
    ("mnist 2 hidden layers of 64, 90% accuracy", {"widths": (64,), "hidden_layers": 2}),
    ("mnist layers of 64 and 32, 2-3 epochs", {"widths": (64, 32)}),
    ("mnist hidden sizes 128, 64, 1-2 epochs", {"widths": (128, 64)}),
])
def test_numbers_that_count_no_units_are_no_widths(text: str, words: dict | None) -> None:
    assert arch_words(text) == words


def test_the_written_network_and_the_classes_keep_to_the_widths() -> None:
    text = "digits 3/8, 2 hidden layers of 64, 1-2 epochs"
    assert text_to_spec(text) == "mnist[3,8]"  # was mnist[3,8,2]
    assert str(arch_from_words(arch_words(text), (1, 28, 28), 2)) == "mlp:784-64-64-2:relu"


@pytest.mark.parametrize("text, widths", [
    ("mnist layers of 64 and 32 seed 7", (64, 32)),  # a seed is said after the list, no count of it
    ("layers of 64 and 32 units", (64, 32)),
    ("hidden layers of 128-64 units", (128, 64)),
])
def test_widths_before_other_words_are_read_as_before(text: str, widths: tuple) -> None:
    assert arch_words(text)["widths"] == widths
