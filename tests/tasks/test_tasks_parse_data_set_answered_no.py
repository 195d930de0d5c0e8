"""Free text: a data set metanet has not, asked about and answered "no" ("letters? no, digits 3 and 8"), asks for
nothing; a "no" that starts a phrase of its own ("cifar10 3 vs 8? no preprocessing") answers nothing, so the data set
is still refused. It was dropped, and the digits were read as mnist: cifar10 silently became mnist[3,8]."""

from __future__ import annotations

import pytest

from metanet.errors import TaskError
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, word", [
    ("cifar10 3 vs 8? no preprocessing needed", "cifar10"),
    ("svhn 0 to 4? No normalisation", "svhn"),
    ("house numbers 3 and 8? no data augmentation, thanks", "house numbers"),
])
def test_a_no_that_starts_a_phrase_answers_nothing(text: str, word: str) -> None:
    with pytest.raises(TaskError, match=f"unknown data set '{word}'"):
        text_to_spec(text)


@pytest.mark.parametrize("text, spec", [
    ("handwritten letters? no, digits 3 and 8", "mnist[3,8]"),
    ("classify letters of the alphabet? no: digits", "mnist"),
    ("emnist letters? no. mnist 3 and 8", "mnist[3,8]"),
    ("svhn? nope - mnist 0 to 4", "mnist[0-4]"),
])
def test_a_no_that_answers_the_question_still_asks_for_nothing(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
