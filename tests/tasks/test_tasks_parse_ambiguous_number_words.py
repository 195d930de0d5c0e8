"""Free text: "all digits but one" (all but any one class, or all but the digit 1?) and a number word alone after the
data set's name ("mnist five": the class 5, or five classes?) are refused, naming what to write; they were read as
mnist[0,2-9] and all of mnist. Lists and class nouns keep their reading."""

from __future__ import annotations

import pytest

from metanet.errors import TaskError
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text", [
    "all digits but one",
    "all digits except one",
    "mnist, all but one digit",
    "all digits but one, inverted",
    "all clothes but one",
])
def test_all_but_one_asks_which(text: str) -> None:
    with pytest.raises(TaskError, match=r"may leave out any one class or class 1; name the class left out as a "
                                        r"number, e\.g\. '[a-z-]+ without 1', or the classes kept, e\.g\. "
                                        r"'[a-z-]+ 0 to 8'$"):
        text_to_spec(text)


@pytest.mark.parametrize("text, message", [
    ("mnist five", "'five' may name class 5 (a task needs at least 2) or a number of classes; name the classes, e.g. "
                   "'mnist 5 and 6' or 'mnist 0 to 4' (5 classes)"),
    ("mnist five, inverted", "'five' may name class 5"),
    ("fashion-mnist eight.", "'eight' may name class 8 (a task needs at least 2) or a number of classes; name the "
                             "classes, e.g. 'fashion-mnist 8 and 9' or 'fashion-mnist 0 to 7' (8 classes)"),
    ("digits nine", "e.g. 'mnist 8 and 9' or 'mnist 0 to 8' (9 classes)"),
])
def test_a_lone_number_word_after_the_data_set_asks_which(text: str, message: str) -> None:
    with pytest.raises(TaskError) as e:
        text_to_spec(text)
    assert str(e.value).endswith(message) if message.endswith(")") else message in str(e.value)


@pytest.mark.parametrize("text, spec", [
    ("all digits but seven", "mnist[0-6,8,9]"),
    ("all digits but 1", "mnist[0,2-9]"),
    ("all digits but one and two", "mnist[0,3-9]"),
    ("all digits but the digit one", "mnist[0,2-9]"),
    ("mnist without one", "mnist[0,2-9]"),
    ("mnist five and six", "mnist[5,6]"),
    ("mnist five hidden layers", "mnist"),
    ("mnist one", "mnist"),
    ("mnist: one, two, or three examples per class", "mnist"),
    ("mnist digits 3 to 8 exclusively", "mnist[3-8]"),  # "only"
])
def test_clear_number_words_read_as_before(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
