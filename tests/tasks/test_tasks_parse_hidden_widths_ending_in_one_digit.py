"""Bare "hidden" widths joined by a slash, a dash or an arrow that end in one digit ("hidden 32/16/8", "hidden 32-16-8",
"hidden 32 -> 16 -> 8"): the last digit was read as a class ("names only one class (8)", or class 8 added to "mnist 3
vs 5"), as "hidden 32, 16 and 8" was."""

from __future__ import annotations

import pytest

from metanet.tasks.arch_text import arch_from_words, arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec", [
    ("mnist hidden 32/16/8", "mnist"),
    ("mnist hidden 32-16-8", "mnist"),
    ("mnist hidden 32 -> 16 -> 8", "mnist"),
    ("mnist 3 vs 5 hidden 32-16-8", "mnist[3,5]"),
    ("mnist 3 vs 5, hidden 32/16/4", "mnist[3,5]"),
])
def test_the_last_digit_is_a_width(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
    assert arch_words(text)["widths"][-1] == int(text[-1])


def test_slashed_widths_build_the_network() -> None:
    assert str(arch_from_words(arch_words("mnist hidden 32/16/8"), (1, 28, 28), 10)) == "mlp:784-32-16-8-10:relu"


@pytest.mark.parametrize("text, spec", [
    ("mnist hidden 32, 3 and 8", "mnist[3,8]"),  # one width, then classes
    ("mnist hidden 64 - 3 vs 8", "mnist[3,8]"),  # a dash between phrases
])
def test_classes_after_one_width_stay_classes(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
