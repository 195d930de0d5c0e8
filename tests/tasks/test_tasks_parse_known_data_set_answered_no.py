"""Free text: a data set metanet has, asked about and answered no by naming another ("mnist? no, fashion-mnist 3 vs
8"), asks for the one named in the answer. The "no" was read as an exclusion and the question's data set won:
fashion-mnist[0-2,4-7,9], and "fashion-mnist? no: mnist" stayed fashion-mnist."""

from __future__ import annotations

import pytest

from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec", [
    ("mnist? no, fashion-mnist 3 vs 8", "fashion-mnist[3,8]"),
    ("fashion-mnist? no: mnist", "mnist"),
    ("fashion-mnist? no. digits 3 and 5", "mnist[3,5]"),
    ("sklearn digits? nope, mnist 0 to 4", "mnist[0-4]"),
    ("mnist? No - 8x8 digits 1 and 2", "digits[1,2]"),
    ("fashion mnist? no, mnist 1d", "mnist1d"),
    ("clothing 0 to 4? no, handwritten digits", "mnist[0-4]"),  # the question's classes stay, as for svhn
])
def test_the_data_set_named_in_the_answer_is_asked_for(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec


@pytest.mark.parametrize("text, spec", [
    ("digits? no, handwritten digits", "mnist"),  # the same data set again
    ("fashion-mnist? no noise", "fashion-mnist"),  # a "no" that starts a phrase of its own
    ("mnist 0 to 4? no", "mnist[0-4]"),  # nothing after the answer
])
def test_an_answer_naming_no_other_data_set_changes_nothing(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
