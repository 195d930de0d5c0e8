"""Number words in a list before "of" and a data set name ("three and eight of mnist", "classes one and seven of
fashion-mnist") are classes: "of" there says whose classes, not how many of something ("3 and 8, one of the digits").
They were dropped, so all of the data set."""

from __future__ import annotations

import pytest

from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec", [
    ("three and eight of mnist", "mnist[3,8]"),
    ("classes one and seven of mnist", "mnist[1,7]"),
    ("one and seven of fashion-mnist", "fashion-mnist[1,7]"),
    ("one vs seven of the mnist data set", "mnist[1,7]"),
    ("fashion-mnist classes one and seven of the set", "fashion-mnist[1,7]"),
])
def test_number_words_of_a_data_set_are_its_classes(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec


@pytest.mark.parametrize("text, spec", [
    ("fashion-mnist 3 and 8, one of the digits", "fashion-mnist[3,8]"),  # a count, as before
    ("mnist 3 and 8, one of them", "mnist[3,8]"),
    ("mnist 3, 8 and one of each", "mnist[3,8]"),
])
def test_a_number_word_of_something_else_is_still_no_class(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
