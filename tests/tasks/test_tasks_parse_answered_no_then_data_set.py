"""Free text: a data set metanet has not, asked about and answered "nope", or "no" followed by the data set meant
("cifar10? nope mnist", "letters? no digits"), asks for that one. The rule that a "no" starting a phrase of its own
answers nothing ("cifar10 3 vs 8? no preprocessing") had made these a refusal of cifar10 / letters."""

from __future__ import annotations

import pytest

from metanet.errors import TaskError
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec", [
    ("cifar10? nope mnist", "mnist"),
    ("svhn 3 vs 8? nope fashion-mnist 3 vs 8", "fashion-mnist[3,8]"),
    ("classify letters of the alphabet? no digits", "mnist"),
    ("cifar10? no mnist 3 and 8", "mnist[3,8]"),
    ("emnist letters? no fashion sneakers and boots", "fashion-mnist[7,9]"),
])
def test_an_answer_followed_by_the_data_set_meant_asks_for_it(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec


@pytest.mark.parametrize("text, word", [
    ("cifar10 3 vs 8? no preprocessing", "cifar10"),
    ("svhn 0 to 4? no normalisation, mnist style", "svhn"),
])
def test_a_no_that_starts_another_phrase_still_answers_nothing(text: str, word: str) -> None:
    with pytest.raises(TaskError, match=f"unknown data set '{word}'"):
        text_to_spec(text)
