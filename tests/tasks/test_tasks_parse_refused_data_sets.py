"""A data set metanet has, said not to be wanted where its words end a phrase ("mnist 3 vs 8, not fashion", "digits
3 vs 8 instead of clothing"), is not the data set read: it was fashion-mnist[3,8], and "fashion mnist, not digits,
sneakers vs boots" left out the classes after its "not" (fashion-mnist[0-6,8])."""

from __future__ import annotations

import pytest

from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec", [
    ("mnist 3 vs 8, not fashion", "mnist[3,8]"),
    ("mnist 3 vs 8, no fashion-mnist", "mnist[3,8]"),
    ("mnist rather than fashion, 3 vs 8", "mnist[3,8]"),
    ("handwritten digits 3 vs 8 instead of clothing", "mnist[3,8]"),
    ("fashion mnist, not digits, sneakers vs boots", "fashion-mnist[7,9]"),
    ("not mnist but fashion-mnist, shirts vs coats", "fashion-mnist[6,4]"),
    ("mnist 3 vs 8, not 8x8 digits", "mnist[3,8]"),
])
def test_a_refused_data_set_is_not_read(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec


@pytest.mark.parametrize("text, spec", [
    ("mnist without digits 3 and 8", "mnist[0-2,4-7,9]"),  # a class noun before classes
    ("mnist, no digits above 5", "mnist[0-5]"),
    ("fashion-mnist? no handwritten digits", "mnist"),  # an answer, not a refusal
    ("handwritten digits, not letters", "mnist"),
    ("fashion 0 to 4, not handwritten digits", "fashion-mnist[0-4]"),
    ("sklearn digits 3 vs 8, not mnist", "digits[3,8]"),
])
def test_data_set_words_before_classes_or_in_an_answer_are_read_as_before(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
