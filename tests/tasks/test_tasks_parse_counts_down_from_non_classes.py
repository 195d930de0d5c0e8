"""Free text: a dash, slash or arrow down to a smaller number before a counted word separates two phrases only when the
number before it may be a class ("mnist 3 vs 8 - 2 layers" keeps its 8). From a number no class has, the pair is
counted: "12000/2000 examples", "100/50 epochs" were read as the class 12000 (or 100) and refused as out of range."""

from __future__ import annotations

import pytest

from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text", [
    "mnist 3 and 8, 12000/2000 examples",
    "mnist 3 and 8 with 1000/200 samples",
    "mnist 3 and 8 with 5000 / 1000 samples",
    "mnist 3 and 8 1000 -> 100 examples",
    "mnist 3 and 8, 100/50 epochs",
    "mnist 3 and 8, 20-10 epochs",
    "mnist 3 and 8, 10 - 5 epochs",
])
def test_a_pair_down_from_a_number_no_class_has_is_counted(text: str) -> None:
    assert text_to_spec(text) == "mnist[3,8]"


@pytest.mark.parametrize("text, spec", [
    ("mnist 3 vs 8 - 2 layers", "mnist[3,8]"),  # the 8 may be a class: kept
    ("mnist 3 vs 8 / 2 layers", "mnist[3,8]"),
    ("fashion 0-9 - 2 layers", "fashion-mnist[0-9]"),
])
def test_a_dash_down_from_a_class_still_separates_phrases(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
