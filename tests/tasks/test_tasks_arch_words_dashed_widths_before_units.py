"""Widths joined by a dash before a unit word ("16-32 channels", "128-64 hidden units", "8-16-32 filters") are one
width per hidden layer, as "16/32 channels" is: the numbers before the last were dropped (widths (32,), a cnn of two
layers of 32 written; "8-16-32 filters" was an error about widths that disagree)."""

from __future__ import annotations

import pytest

from metanet.tasks.arch_text import arch_from_words, arch_words
from metanet.tasks.parse import text_to_spec

MNIST = ((1, 28, 28), 10)


@pytest.mark.parametrize("text, spec, arch", [
    ("cnn with 16-32 channels on mnist", "mnist", "cnn:1-16-32-10:relu:k3:s2"),
    ("mnist 128-64 hidden units", "mnist", "mlp:784-128-64-10:relu"),
    ("mnist cnn 8-16-32 filters", "mnist", "cnn:1-8-16-32-10:relu:k3:s2"),
    ("mnist 3 vs 5 cnn with 8-16 channels", "mnist[3,5]", "cnn:1-8-16-2:relu:k3:s2"),
    ("mnist 0-4 with 64 - 32 units", "mnist[0-4]", "mlp:784-64-32-5:relu"),
    ("2 conv layers 16-32 channels on mnist", "mnist", "cnn:1-16-32-10:relu:k3:s2"),
])
def test_a_dash_list_before_a_unit_word_is_one_width_per_layer(text: str, spec: str, arch: str) -> None:
    assert text_to_spec(text) == spec
    k = 10 if "[" not in spec else (5 if "0-4" in spec else 2)
    assert str(arch_from_words(arch_words(text), MNIST[0], k)) == arch


@pytest.mark.parametrize("text, widths", [
    ("mnist 3 vs 8 - 64 units", (64,)),  # a dash between phrases: the 8 ends the class list
    ("mnist 3 vs 8-64 units", (64,)),  # a digit after a class joiner may be a class
    ("mnist 16/32 channels cnn", (16, 32)),
])
def test_a_class_before_a_dash_is_no_width(text: str, widths: tuple) -> None:
    assert arch_words(text)["widths"] == widths


def test_a_dashed_range_of_widths_said_with_to_is_still_refused() -> None:
    from metanet.errors import ArchError
    with pytest.raises(ArchError, match="range of widths"):
        arch_words("a cnn with 16 to 32 channels")
