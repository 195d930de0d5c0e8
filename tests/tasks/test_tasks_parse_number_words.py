"""Free text: a number word on its own names a class where a numeral would. After an exclusion ("mnist without five",
"all digits but seven", "0 to 4 except two") and after a class noun ("digit five and digit seven", "class one vs
class two") it was no class: all of mnist, or the classes before the exclusion, while "without 5" left out 5. A lone
number word elsewhere stays no class ("mnist one", "not one but two networks")."""

from __future__ import annotations

import pytest

from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec", [
    ("mnist without five", "mnist[0-4,6-9]"),
    ("mnist, no five", "mnist[0-4,6-9]"),
    ("all digits but seven", "mnist[0-6,8,9]"),
    ("digits except for the digit five", "mnist[0-4,6-9]"),
    ("mnist excluding seven please", "mnist[0-6,8,9]"),
    ("mnist leaving out nine", "mnist[0-8]"),
    ("mnist omitting zero", "mnist[1-9]"),
    ("mnist without five, inverted", "mnist[0-4,6-9]+invert"),
    ("mnist without five with 2 hidden layers", "mnist[0-4,6-9]"),
    ("mnist zero to four except two", "mnist[0,1,3,4]"),
    ("mnist 0 to 4 except two", "mnist[0,1,3,4]"),
    ("mnist above five but not seven", "mnist[6,8,9]"),
    ("mnist 0 to 9 exclusive of five", "mnist[0-4,6-9]"),
    ("mnist without one", "mnist[0,2-9]"),
    ("clothing except five", "fashion-mnist[0-4,6-9]"),
    ("fashion mnist without nine and bags", "fashion-mnist[0-7]"),
    ("handwritten digits without five nor seven", "mnist[0-4,6,8,9]"),
])
def test_a_number_word_left_out_is_a_class(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec


@pytest.mark.parametrize("words, numerals", [
    ("mnist without five", "mnist without 5"),
    ("all digits but seven", "all digits but 7"),
    ("mnist 0 to 4 except two", "mnist 0 to 4 except 2"),
    ("clothing except five", "clothing except 5"),
])
def test_a_number_word_left_out_reads_as_its_numeral(words: str, numerals: str) -> None:
    assert text_to_spec(words) == text_to_spec(numerals)


@pytest.mark.parametrize("text, spec", [
    ("mnist digit five and digit seven", "mnist[5,7]"),
    ("mnist the digit five vs the digit seven", "mnist[5,7]"),
    ("mnist class one vs class two", "mnist[1,2]"),
    ("fashion mnist class five vs class seven", "fashion-mnist[5,7]"),
    ("digits except digit five", "mnist[0-4,6-9]"),
])
def test_a_number_word_after_a_class_noun_is_a_class(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec


@pytest.mark.parametrize("text, spec", [
    ("mnist one", "mnist"),
    ("mnist one vs rest", "mnist"),
    ("mnist, not one but two networks", "mnist"),
    ("mnist without one hidden layer", "mnist"),
    ("mnist 3 vs 8 with no one-hot labels", "mnist[3,8]"),
    ("mnist digit one hidden layer", "mnist"),
    ("mnist with no two layers alike", "mnist"),
    ("mnist without five to seven", "mnist[0-4,8,9]"),  # a range, as before
])
def test_number_words_that_count_or_join_are_no_classes(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
