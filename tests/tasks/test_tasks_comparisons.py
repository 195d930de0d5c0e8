"""Class ids compared with a number in free text ("digits greater than 5", "<= 3", "up to 4") are a range of the data
set's classes. They were read as the one class named ("'mnist digits greater than 5' names only one class (5)"), or
silently as another task: "digits up to 4 and 7" was mnist[4,7], "digits greater than five" all of mnist, "digits
between 3 and 7" mnist[3,7]. Comparisons of counts, durations and scores stay what they were."""

from __future__ import annotations

import pytest

from metanet import tasks
from metanet.errors import TaskError
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec", [
    ("mnist digits greater than 5", "mnist[6-9]"),
    ("digits more than 5", "mnist[6-9]"),
    ("digits above 6", "mnist[7-9]"),
    ("digits over 5", "mnist[6-9]"),
    ("digits > 5", "mnist[6-9]"),
    ("mnist digits>5", "mnist[6-9]"),
    ("digits at least 5", "mnist[5-9]"),
    ("digits >= 7", "mnist[7-9]"),
    ("digits ≥ 7", "mnist[7-9]"),
    ("mnist greater than or equal to 7", "mnist[7-9]"),
    ("digits below 3", "mnist[0-2]"),
    ("digits under 3", "mnist[0-2]"),
    ("digits less than 4", "mnist[0-3]"),
    ("digits < 3", "mnist[0-2]"),
    ("digits less than 10", "mnist[0-9]"),  # every class: 10 is one past the last, and "less than" leaves it out
    ("digits at most 3", "mnist[0-3]"),
    ("digits <= 3", "mnist[0-3]"),
    ("digits up to 4", "mnist[0-4]"),
    ("digits up to and including 3", "mnist[0-3]"),
    ("digits less than or equal to 2", "mnist[0-2]"),
    ("digits greater than five", "mnist[6-9]"),  # was all of mnist: a lone number word is no class
    ("digits above three, inverted", "mnist[4-9]+invert"),
    ("digits above 5s", "mnist[6-9]"),
    ("fashion classes above 6", "fashion-mnist[7-9]"),
    ("8x8 digits above 6", "digits[7-9]"),
    ("mnist1d signals below 4", "mnist1d[0-3]"),
    ("digits>=5 permuted pixels seed 3", "mnist[5-9]+permute(3)"),
    # with other classes, exclusions and constraints
    ("digits up to 4 and 7", "mnist[0-4,7]"),  # was mnist[4,7]
    ("sneakers and classes above 7", "fashion-mnist[7-9]"),
    ("mnist digits greater than 5 except 7", "mnist[6,8,9]"),
    ("mnist without digits above 6", "mnist[0-6]"),
    ("digits no more than 5", "mnist[0-5]"),  # a negation is an exclusion: all but 6-9
    ("mnist 0 to 7 but not above 5", "mnist[0-5]"),
    ("binary mnist above 7", "mnist[8,9]"),
    ("3 classes of mnist above 6", "mnist[7-9]"),
    # a lower and an upper bound that overlap are one range; others add up
    ("digits above 2 and below 7", "mnist[3-6]"),
    ("digits below 7 and above 2", "mnist[3-6]"),
    ("digits at least 3 but at most 6", "mnist[3-6]"),
    ("digits at least 0 and below 5", "mnist[0-4]"),
    ("digits below 3 and above 7", "mnist[0-2,8,9]"),
    ("digits above 2 and below 7 and above 4", "mnist[3-9]"),  # a third bound adds up, not 5-6
])
def test_a_comparison_names_a_range_of_classes(text, spec):
    assert text_to_spec(text) == spec


def test_parse_loads_the_range():
    task = tasks.parse("sklearn digits greater than 6")
    assert task.name == "digits[7-9]" and task.num_classes == 3


@pytest.mark.parametrize("text, spec", [
    ("mnist 3 and 8, at least 50 examples per class", "mnist[3,8]"),
    ("mnist 3 and 8 in under 1 ms", "mnist[3,8]"),
    ("digits 3 and 8 under 5 minutes", "mnist[3,8]"),
    ("mnist 3 and 8 with more than 2 layers", "mnist[3,8]"),
    ("digits 3 and 8 with at least 2 layers", "mnist[3,8]"),
    ("digits 3 and 8, over 5 epochs", "mnist[3,8]"),
    ("mnist 3 and 8 with more than 1000 images", "mnist[3,8]"),
    ("mnist 3 vs 8, at least one network", "mnist[3,8]"),
    ("digits 3 and 8 at least one conv layer", "mnist[3,8]"),
    ("mnist 3 vs 8 accuracy above 90%", "mnist[3,8]"),
    ("mnist 3 vs 8 accuracy over 0.9", "mnist[3,8]"),
    ("fashion mnist at top-1 accuracy above 90%", "fashion-mnist"),
])
def test_comparisons_of_counts_durations_and_scores_are_no_classes(text, spec):
    assert text_to_spec(text) == spec


@pytest.mark.parametrize("text, match", [
    ("digits greater than 9", r"'greater than 9' names no class: mnist has classes 0-9; name a range.*'mnist 6 to 9'"),
    ("digits less than 0", r"'less than 0' names no class: mnist has classes 0-9"),
    ("digits at least 12", r"'at least 12' goes past 9: mnist has classes 0-9"),
    ("digits up to 12", r"'up to 12' goes past 9: mnist has classes 0-9"),
    ("digits less than 11", r"'less than 11' goes past 9"),
    ("digits over 9000", r"'over 9000' goes past 9"),
    ("fashion above 12", r"fashion-mnist has classes 0-9 \(0 T-shirt/top, .*9 Ankle boot\)"),
    ("digits above 8", r"only one class \(9\)"),
    ("digits between 3 and 7", r"'between 3 and 7' does not say whether 3 and 7 are in.*'mnist 3 to 7'"),
    ("greater than 5", r"'greater than 5' compares class ids but names no data set; name it"),
    ("seed must be an integer >= 0", r"names no data set"),  # not mnist[0-9]
    ("clothing between two and five", r"'between two and five' does not say whether 2 and 5 are in"),
])
def test_a_comparison_that_names_no_range_of_classes_is_an_error(text, match):
    with pytest.raises(TaskError, match=match):
        text_to_spec(text)


def test_a_compared_count_of_something_else_is_no_range():
    """"at least 2 dimensions" compares a count, not class ids: not the classes 2 to 9, silently."""
    with pytest.raises(TaskError, match=r"'at least 2 dimensions'"):
        text_to_spec("at least 2 dimensions")
    assert text_to_spec("digits above 5 digits") == "mnist[6-9]"  # class nouns do not count


@pytest.mark.parametrize("text", ["the first five digits", "the last three fashion classes"])
def test_classes_by_position_stay_refused_with_how_to_write_a_range(text):
    with pytest.raises(TaskError, match=r"not by position or rank.*'digits 0 to 4'"):
        text_to_spec(text)
