"""Free text: a known data set asked about and answered "no" by naming a data set again, the same one ("digits? no,
handwritten digits 3 vs 8"), asks for the answer: the "no" was read as an exclusion of the answer's classes,
mnist[0-2,4-7,9]. An answer that names classes replaces the question's ("mnist 3 vs 8? no, fashion-mnist 4 and 9" was
fashion-mnist[3,8,4,9]); one that names none keeps them ("clothing 0 to 4? no, handwritten digits")."""

from __future__ import annotations

import pytest

from metanet.errors import TaskError
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec", [
    ("digits? no, handwritten digits 3 vs 8", "mnist[3,8]"),
    ("digits? no, mnist 3 vs 8", "mnist[3,8]"),
    ("mnist? no, mnist 3 vs 8", "mnist[3,8]"),
    ("mnist? no, the handwritten digits 3 vs 8", "mnist[3,8]"),
    ("mnist? no, I mean handwritten digits 3 vs 8", "mnist[3,8]"),
    ("fashion? no, clothing sneakers vs boots", "fashion-mnist[7,9]"),
    ("mnist? nope, digits 3 vs 8", "mnist[3,8]"),  # as before
    ("mnist? no, mnist without 3", "mnist[0-2,4-9]"),  # the answer's own exclusion stays
])
def test_an_answer_naming_the_same_data_set_is_the_task(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec


@pytest.mark.parametrize("text, spec", [
    ("mnist 3 vs 8? no, mnist 4 and 9", "mnist[4,9]"),
    ("mnist 3 vs 8? no, fashion-mnist 4 and 9", "fashion-mnist[4,9]"),
    ("fashion sneakers vs boots? no, clothing bags vs coats", "fashion-mnist[8,4]"),
    ("mnist above 5? no, fashion-mnist 0 to 4", "fashion-mnist[0-4]"),
    ("svhn 3 vs 8? nope fashion-mnist 4 and 9", "fashion-mnist[4,9]"),
    ("svhn 3 vs 8? no, 4 and 9", "mnist[4,9]"),
    ("inverted mnist 3 vs 8? no, mnist 4 and 9", "mnist[4,9]+invert"),
    ("mnist 3 vs 8 with 2 layers? no, fashion 4 and 9", "fashion-mnist[4,9]"),
    ("mnist 3 vs 8? no, 4 and 9", "mnist[4,9]"),  # no data set in the answer: its classes replace the question's
])
def test_classes_in_the_answer_replace_the_questions(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec


@pytest.mark.parametrize("text, spec", [
    ("clothing 0 to 4? no, handwritten digits", "mnist[0-4]"),
    ("mnist 0 to 4? no, mnist digits", "mnist[0-4]"),
    ("mnist 3 vs 8? no, fashion-mnist, inverted", "fashion-mnist[3,8]+invert"),
    ("mnist 3 vs 8? no, fashion-mnist with 2 layers", "fashion-mnist[3,8]"),
    ("digits? no, handwritten digits", "mnist"),
])
def test_an_answer_naming_no_classes_keeps_the_questions(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec


def test_an_answer_past_the_last_class_is_still_an_error() -> None:
    with pytest.raises(TaskError, match="classes 12, 13 are out of range: mnist has classes 0-9"):
        text_to_spec("mnist 3 vs 8? no, mnist 12 and 13")
