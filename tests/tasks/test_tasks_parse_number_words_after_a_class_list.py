"""A number word after a class list that says how many of something ("3 and 8, one of the digits", "one of them",
"one more time", "one mlp", "two of them") is no class: it was class 1 (or 2) added to the list."""

from __future__ import annotations

import pytest

from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec", [
    ("fashion-mnist 3 and 8, one of the digits", "fashion-mnist[3,8]"),
    ("mnist 3 and 8, one of them", "mnist[3,8]"),
    ("mnist 3 and 8, one more time", "mnist[3,8]"),
    ("mnist 3 vs 8, one mlp", "mnist[3,8]"),
    ("mnist 3 and 8, two of them", "mnist[3,8]"),
    ("cnn on mnist 2-7, one of them", "mnist[2-7]"),
])
def test_a_number_word_that_counts_is_no_class(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec


@pytest.mark.parametrize("text, spec", [
    ("mnist classes one and seven", "mnist[1,7]"),
    ("mnist one and seven", "mnist[1,7]"),
    ("mnist zero and one", "mnist[0,1]"),
    ("mnist one, two and three", "mnist[1-3]"),
    ("mnist 3 and 8, one network", "mnist[3,8]"),
])
def test_number_words_in_a_list_of_classes_are_read_as_before(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
