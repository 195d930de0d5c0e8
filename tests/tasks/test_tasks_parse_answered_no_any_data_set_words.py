"""Free text: a data set metanet has not, asked about and answered "no" followed by the data set meant in any of its
words ("letters? no handwritten digits", "? no sklearn digits", "? no 8x8 digits", "? no numbers"). Only "mnist",
"digit(s)" and the fashion / mnist1d words counted as an answer, so these were refused as the unknown data set (they
were read before the "no preprocessing" rule). A "no" that starts a phrase of its own still answers nothing."""

from __future__ import annotations

import pytest

from metanet.errors import TaskError
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec", [
    ("letters? no handwritten digits", "mnist"),
    ("classify letters? no handwritten digits 3 and 8", "mnist[3,8]"),
    ("letters? no hand-written digits 3 vs 8", "mnist[3,8]"),
    ("letters? no numbers", "mnist"),
    ("letters? no sklearn digits", "digits"),
    ("letters? no 8x8 digits 0 to 4", "digits[0-4]"),
    ("svhn? no scikit-learn digits", "digits"),
    ("cifar10? no clothes", "fashion-mnist"),
    ("cifar10? no 1d signals", "mnist1d"),
])
def test_a_no_followed_by_a_data_set_in_any_of_its_words_answers(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec


@pytest.mark.parametrize("text, word", [
    ("cifar10 3 vs 8? no preprocessing", "cifar10"),
    ("letters? no augmentation", "letters"),
])
def test_a_no_that_starts_a_phrase_still_answers_nothing(text: str, word: str) -> None:
    with pytest.raises(TaskError, match=f"unknown data set '{word}'"):
        text_to_spec(text)
