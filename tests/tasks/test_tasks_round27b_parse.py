"""Free-text parsing, round 27b: constraints the parser does not understand are errors, never silently dropped."""

from __future__ import annotations

import pytest

from metanet.errors import TaskError
from metanet.tasks import text_to_spec


@pytest.mark.parametrize(
    "text, part",
    [
        ("binary mnist", "binary"),  # would be all 10 classes
        ("a binary classifier for fashion mnist", "binary"),
        ("binary mnist 3, 5 and 8", "binary"),  # three classes named
        ("5-class fashion mnist", "5-class"),
        ("mnist, three classes", "three classes"),
        ("a 4-way classifier on mnist digits 3 and 8", "4-way"),
    ],
)
def test_a_class_count_that_the_classes_do_not_meet_is_an_error(text, part):
    with pytest.raises(TaskError) as info:
        text_to_spec(text)
    message = str(info.value)
    assert repr(part) in message and "e.g." in message


@pytest.mark.parametrize(
    "text, spec",
    [
        ("binary mnist 3 vs 8", "mnist[3,8]"),
        ("mnist 3 and 8, binary classifier", "mnist[3,8]"),
        ("a two-class network for sneakers and boots", "fashion-mnist[7,9]"),
        ("10-class mnist", "mnist"),
        ("fashion mnist, 10 classes", "fashion-mnist"),
        ("mnist without 7, a 9-way classifier", "mnist[0-6,8,9]"),
        ("5 class mnist 0 to 4", "mnist[0-4]"),
    ],
)
def test_a_class_count_that_the_classes_meet_is_fine(text, spec):
    assert text_to_spec(text) == spec


@pytest.mark.parametrize(
    "text, part",
    [
        ("first five mnist digits", "first five"),
        ("the last 3 digits of mnist", "last 3"),
        ("first 1000 images of fashion mnist", "first 1000"),
    ],
)
def test_classes_or_examples_picked_by_position_are_an_error(text, part):
    with pytest.raises(TaskError) as info:
        text_to_spec(text)
    assert repr(part) in str(info.value) and "0 to 4" in str(info.value)


def test_first_and_last_that_count_layers_are_no_constraint_on_the_task():
    assert text_to_spec("mnist 3 and 8, retrain the last 2 layers") == "mnist[3,8]"
    assert text_to_spec("fashion mnist, first 5 epochs") == "fashion-mnist"


@pytest.mark.parametrize("text, part", [("mnist3 and 8", "mnist3"), ("fashion-mnist3 and 8", "fashion-mnist3"),
                                        ("fmnist7 vs 9", "fmnist7")])
def test_a_data_set_name_glued_to_a_number_is_named_in_the_error(text, part):
    with pytest.raises(TaskError) as info:
        text_to_spec(text)
    message = str(info.value)
    assert repr(part) in message and "only one class" not in message
    assert text_to_spec("mnist1d 3 and 8") == "mnist1d[3,8]"  # the name mnist1d is no glued number


@pytest.mark.parametrize(
    "text, spec",
    [
        ("mnist 2 or 3 layers", "mnist"),
        ("mnist with 2 or 3 hidden layers", "mnist"),
        ("mnist digits 0 to 4, 2-3 layers", "mnist[0-4]"),
        ("mnist 3 and 8 with 2 to 3 hidden layers", "mnist[3,8]"),
        ("mnist 3 and 8, 2 or 3 layers", "mnist[3,8]"),
        ("digits five and six, two hidden layers", "mnist[5,6]"),  # the count after the comma is not a class
        ("mnist with one, two, or three layers", "mnist"),
    ],
)
def test_a_list_of_numbers_that_counts_layers_is_no_class(text, spec):
    assert text_to_spec(text) == spec


def test_binarised_pixels_are_not_silently_dropped():
    with pytest.raises(TaskError, match="binarized.*inverted"):
        text_to_spec("binarized mnist 3 vs 8")
