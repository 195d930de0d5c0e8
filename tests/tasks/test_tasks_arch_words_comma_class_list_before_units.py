"""Free text: a digit after "N, " right before a unit word may be a class ("mnist 3, 8 units" was refused as the one
class 3, its 8 read as a width): an ArchError asks which, as for "mnist 3/8 channels". After a closed class list
("3 and 8, 5 units", "0-4, 8 units") the comma separates two phrases: the digit stays a width."""

from __future__ import annotations

import pytest

from metanet.errors import ArchError
from metanet.tasks.arch_text import arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, said", [
    ("mnist 3, 8 units", "'3, 8'"),
    ("mnist 3,8 units", "'3,8'"),
    ("digits 4, 9 channels", "'4, 9'"),
])
def test_comma_list_of_digits_before_units_is_an_error(text: str, said: str) -> None:
    with pytest.raises(ArchError, match=f"may hold the classes {said} or be widths"):
        arch_words(text)


@pytest.mark.parametrize("text, spec", [
    ("mnist 3 and 8, 5 units", "mnist[3,8]"),
    ("mnist 3 vs. 8, 5 units", "mnist[3,8]"),
    ("mnist 0-4, 8 units", "mnist[0-4]"),
    ("mnist 3 & 8, 5 units", "mnist[3,8]"),
])
def test_a_width_after_a_closed_class_list_stays_a_width(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
    assert arch_words(text)["widths"] in ((5,), (8,))
