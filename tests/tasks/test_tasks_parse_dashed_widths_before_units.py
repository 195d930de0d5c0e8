"""Widths joined by a dash before a unit word ("16-32 channels", "128-64 hidden units", "8-16-32 filters"): once a
width's unit word was blanked with its number, the numbers before the dash were read as classes ("class 16 is out of
range", "range '8-16' goes past 9", or silently class 8 of "mnist 3 vs 5 cnn with 8-16 channels")."""

from __future__ import annotations

import pytest

from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec", [
    ("16-32 channels on mnist 0-4", "mnist[0-4]"),
    ("cnn with 16-32 channels on mnist 3 vs 5", "mnist[3,5]"),
    ("mnist 3 vs 5 cnn with 8-16 channels", "mnist[3,5]"),
    ("mnist 3 vs 5 with 128-64 hidden units", "mnist[3,5]"),
    ("mnist 0-4 with 64 - 32 units", "mnist[0-4]"),
    ("mnist 3 vs 5 cnn with 8-16-32 channels", "mnist[3,5]"),
    ("fashion-mnist 3 and 8, 10-20 units", "fashion-mnist[3,8]"),
])
def test_numbers_dashed_to_a_width_are_no_classes(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec


@pytest.mark.parametrize("text, spec", [
    ("mnist 3 vs 8 - 64 units", "mnist[3,8]"),  # a dash between phrases: the 8 ends the class list
    ("mnist 3 vs 8, 64 units", "mnist[3,8]"),
    ("mnist 0-4 64 units", "mnist[0-4]"),
])
def test_a_class_list_before_a_width_keeps_its_classes(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
