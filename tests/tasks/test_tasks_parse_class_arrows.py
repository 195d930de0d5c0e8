"""Free text: an arrow between two class numbers ("mnist 0 -> 4", "0 => 4", "0→4") may be the range 0 to 4 or class 0
relabelled 4; it is refused, naming the range to write (its ">" and "=>" were comparisons: "mnist 0 -> 4" was
mnist[0,5-9], "mnist 0→4" mnist[0,4]). Widths with arrows stay a network's."""

from __future__ import annotations

import pytest

from metanet.errors import TaskError
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, example", [
    ("mnist 0 -> 4", "'mnist 0 to 4'"),
    ("mnist 0→4", "'mnist 0 to 4'"),
    ("mnist 0->4", "'mnist 0 to 4'"),
    ("classes 0 -> 4", "'mnist 0 to 4'"),
    ("0 => 4", "'mnist 0 to 4'"),
    ("fashion mnist 7 => 2", "'fashion-mnist 2 to 7'"),
    ("digits zero -> four", "'mnist 0 to 4'"),
])
def test_an_arrow_between_classes_asks_which(text: str, example: str) -> None:
    with pytest.raises(TaskError, match=r"may be the classes .+ or class .+ relabelled .+, and no task maps one class "
                                        r"to another; write the classes, e\.g\. " + example):
        text_to_spec(text)


@pytest.mark.parametrize("text, spec", [
    ("mnist 3 vs 8, an mlp 784 -> 128 -> 10", "mnist[3,8]"),
    ("mnist 3 vs 8 with hidden layers 128 -> 64", "mnist[3,8]"),
    ("digits => 5", "mnist[5-9]"),
    ("mnist 0 to 4", "mnist[0-4]"),
])
def test_widths_and_comparisons_keep_their_reading(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
