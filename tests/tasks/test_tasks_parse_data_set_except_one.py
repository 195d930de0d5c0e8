"""Free text: "mnist digits except one" asks which, as "all digits except one" does (all but any one class, or all
but class 1?); it was class 1 left out. Lists and counts after it keep their reading."""

from __future__ import annotations

import pytest

from metanet.errors import TaskError
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text", [
    "mnist digits except one",
    "mnist except one",
    "fashion mnist except for one class",
    "mnist digits but one, inverted",
])
def test_the_data_set_except_one_asks_which(text: str) -> None:
    with pytest.raises(TaskError, match=r"may leave out any one class or class 1; name the class left out as a "
                                        r"number"):
        text_to_spec(text)


@pytest.mark.parametrize("text, spec", [
    ("mnist except one and two", "mnist[0,3-9]"),
    ("mnist except one, two and three", "mnist[0,4-9]"),
    ("mnist without one", "mnist[0,2-9]"),
    ("mnist 3 and 8 but one hidden layer", "mnist[3,8]"),
    ("mnist except 1", "mnist[0,2-9]"),
    ("mnist 0 to 4 except one", "mnist[0,2-4]"),  # classes named before: class 1 of them, as before
])
def test_a_list_or_a_count_after_one_reads_as_before(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
