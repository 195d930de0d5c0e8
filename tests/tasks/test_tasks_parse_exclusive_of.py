"""Free text: "exclusive of" a class leaves it out, as "excluding" does. "mnist exclusive of 5 and 7" was mnist[5,7]
(the two classes named, the opposite), and "mnist 0 to 9 exclusive of 5" was asked which ends of 0 to 9 are left
out (the range's "exclusive" rule), with advice ('mnist 0 to 8' or 'mnist 1 to 8') that drops the wrong classes.
"Exclusive of" an end of the range ("3 to 8, exclusive of 8") or of nothing stays that question."""

from __future__ import annotations

import pytest

from metanet.errors import TaskError
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec", [
    ("mnist exclusive of 5 and 7", "mnist[0-4,6,8,9]"),
    ("all mnist digits exclusive of 5", "mnist[0-4,6-9]"),
    ("mnist 0 to 9 exclusive of 5", "mnist[0-4,6-9]"),
    ("mnist digits 0-9, exclusive of 5", "mnist[0-4,6-9]"),
    ("mnist 2 to 8 exclusive of 5", "mnist[2-4,6-8]"),
    ("fashion-mnist exclusive of bags", "fashion-mnist[0-7,9]"),
    ("fashion classes 0 to 9 exclusive of bags and boots", "fashion-mnist[0-7]"),
])
def test_exclusive_of_a_class_leaves_it_out(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec


@pytest.mark.parametrize("text", [
    "mnist 3 to 8 exclusive",
    "mnist 3 to 8, exclusive of 8",
    "mnist 3 to 8 exclusive of the ends",
    "mnist 3 to 8 exclusive of",
])
def test_an_exclusive_range_without_a_class_inside_still_asks_which_ends(text: str) -> None:
    with pytest.raises(TaskError, match="does not say which ends are left out"):
        text_to_spec(text)
