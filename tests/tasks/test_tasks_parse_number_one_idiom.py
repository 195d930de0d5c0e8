"""'number one' before a noun is the idiom (the first, the best), not the class 1: "mnist 3 vs 8, number one
priority is speed" was mnist[3,8,1] and "a number one classifier for mnist" an error naming only class 1, once a
number word after a class noun ("digit five", "number seven") read as a class."""

from __future__ import annotations

import pytest

from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec", [
    ("mnist 3 vs 8, number one priority is speed", "mnist[3,8]"),
    ("mnist 3 and 8, the number one goal is accuracy", "mnist[3,8]"),
    ("a number one classifier for mnist", "mnist"),
])
def test_number_one_before_a_noun_is_no_class(text, spec):
    assert text_to_spec(text) == spec


@pytest.mark.parametrize("text, spec", [
    ("mnist number one and number seven", "mnist[1,7]"),
    ("mnist number one vs seven", "mnist[1,7]"),
    ("digit five and digit seven", "mnist[5,7]"),
    ("mnist without number one", "mnist[0,2-9]"),
])
def test_a_number_word_after_a_class_noun_is_still_a_class(text, spec):
    assert text_to_spec(text) == spec
