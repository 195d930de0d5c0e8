"""Review of session 32's commits: free text that the new parser rules read silently as another task, or refused
although it asks for a task that exists."""

from __future__ import annotations

import pytest

from metanet.errors import TaskError
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec", [
    # since session 33 these counts, sizes and scores are no classes at all (they were one class, an error)
    ("mnist with over 3 conv layers", "mnist"),  # was mnist[4-9]
    ("mnist with more than 2 fully connected layers", "mnist"),  # was mnist[3-9]
    ("mnist with over 1 million parameters", None),  # was mnist[2-9]
    ("mnist smaller than 5 mb", "mnist"),  # was mnist[0-4]
    ("mnist with under 3 percent error", "mnist"),  # was mnist[0-2]
    ("mnist, loss under 3", "mnist"),  # was mnist[0-2]
    ("up to 3 mnist networks", None),  # was mnist[0-3]
])
def test_a_compared_quantity_of_something_else_is_no_range_of_classes(text, spec):
    """A comparison of a count, size or score is not the classes above/below it; the number stays a plain number
    (None: one class, an error), as before the comparison rule, or is no class at all."""
    if spec is None:
        with pytest.raises(TaskError, match=r"names only one class"):
            text_to_spec(text)
    else:
        assert text_to_spec(text) == spec


@pytest.mark.parametrize("text, spec", [
    ("digits greater than 5 with less than 10 mb", "mnist[6-9]"),  # was mnist[6-9,0-5]: every class
    ("digits above 5 over 3 epochs", "mnist[6-9]"),
    ("digits below 3 and above 7 under 10 seconds", "mnist[0-2,8,9]"),
    ("digits above 5 with 2 hidden layers", "mnist[6-9]"),
])
def test_comparisons_next_to_other_quantities(text, spec):
    if spec is None:
        with pytest.raises(TaskError, match=r"class 10 is out of range"):
            text_to_spec(text)
    else:
        assert text_to_spec(text) == text_to_spec(spec)


@pytest.mark.parametrize("text, spec", [
    ("handwritten digits, not letters", "mnist"),
    ("mnist (not letters)", "mnist"),
    ("mnist without letters", "mnist"),
    ("mnist, the digits not the letters", "mnist"),
    ("digits 3 and 8, not house numbers", "mnist[3,8]"),
    ("mnist cnn with 16x16 feature maps", "mnist"),
    ("mnist 10x10 confusion matrix", "mnist"),
])
def test_a_data_set_said_not_wanted_or_a_network_size_is_no_error(text, spec):
    assert text_to_spec(text) == spec


@pytest.mark.parametrize("text, word", [
    ("handwritten letters", "handwritten letters"),
    ("mnist letters a and b", "letters"),
    ("svhn, not mnist", "svhn"),
    ("not mnist but house numbers", "house numbers"),
])
def test_a_data_set_asked_for_stays_an_error(text, word):
    with pytest.raises(TaskError, match=f"unknown data set '{word}'"):
        text_to_spec(text)


def test_an_input_size_not_the_data_sets_stays_an_error():
    with pytest.raises(TaskError, match=r"'32x32' is not the input size of mnist"):
        text_to_spec("mnist 32x32 images")
