"""Free text: "N and up to M" after listed classes. "from 3 up to 7" / "3 and up to 7" read as the range 3 to 7; when
N is past M ("digits 4, 6 and up to 2") that reading runs backwards, so the "and" joins the class N and the
comparison "up to M" (0 to M) as it did before ranges took "up to": it was "digit range '6 to 2' runs backwards", a
range the text never wrote."""

from __future__ import annotations

import pytest

from metanet.errors import TaskError
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec", [
    ("digits 4, 6 and up to 2", "mnist[4,6,0-2]"),
    ("digits 7 and up to 4", "mnist[7,0-4]"),
    ("mnist digits 9 and up to two", "mnist[9,0-2]"),
    ("fashion mnist classes 8 and up to 3", "fashion-mnist[8,0-3]"),
])
def test_a_class_past_the_bound_and_up_to_is_that_class_and_the_comparison(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec


@pytest.mark.parametrize("text, spec", [
    ("digits 3 and up to 7", "mnist[3-7]"),  # a range, as before
    ("mnist digits from 3 up to 7", "mnist[3-7]"),
    ("digits 1, 2 and up to 4", "mnist[1-4]"),
])
def test_a_class_below_the_bound_still_starts_a_range(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec


def test_from_a_class_up_to_a_smaller_one_without_and_still_runs_backwards() -> None:
    with pytest.raises(TaskError, match="runs backwards; write it as 3 to 7"):
        text_to_spec("mnist digits from 7 up to 3")
