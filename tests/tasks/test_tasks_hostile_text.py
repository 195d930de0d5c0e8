"""Hostile free text (``metanet.tasks.parse`` and the grammar): text that took time exponential in its repeated
joining words ("mnist 3 , , , ... x"), numbers of thousands of digits (a ValueError from int()) and texts of a
megabyte (seconds per rule) are answered at once, as the task or as one TaskError.
"""

from __future__ import annotations

import re

import pytest

from metanet import tasks
from metanet.errors import TaskError
from metanet.tasks.grammar import parse_spec
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, match", [
    # each took time exponential in its repeats (backtracking over the spaces around "," and "or")
    ("mnist 3" + " ," * 40 + " x", r"names only one class \(3\)"),
    ("mnist 3 or 8" + " or 3 or 8" * 20 + " x", None),
])
def test_repeated_joining_words_give_their_answer(text, match):
    if match is None:
        assert text_to_spec(text) == "mnist[3,8]"
    else:
        with pytest.raises(TaskError, match=match):
            text_to_spec(text)


BIG = "9" * 5000  # int() refuses more than 4,300 digits: a ValueError, not a TaskError


@pytest.mark.parametrize("text, match", [
    ("mnist " + BIG, r"class 9{5000} is out of range: mnist has classes 0-9"),
    ("mnist 0 to " + BIG, r"range '0 to 9{5000}' goes past 9"),
    ("digits above " + BIG, r"'above 9{5000}' goes past 9"),
    (BIG + "-class mnist", r"asks for 9{5000} classes"),
    ("mnist between " + BIG + " and 3", r"does not say whether 9{5000} and 3 are in"),
    ("mnist permuted pixels seed " + BIG, r"permute needs a non-negative integer seed"),
    ("mnist[" + BIG + "]", r"class 9{5000} is out of range"),
    ("mnist[3-" + BIG + "]", r"class 10 is out of range"),
    ("mnist[" + BIG + "-3]", r"runs backwards; write it as 3-9{5000}"),
    ("mnist+relabel(" + BIG + ")", r"relabel needs a non-negative integer seed"),
])
def test_numbers_of_thousands_of_digits_are_task_errors(text, match):
    with pytest.raises(TaskError, match=match):
        text_to_spec(text)


def test_the_grammar_refuses_them_too():
    with pytest.raises(TaskError, match=r"class 9{5000} is out of range"):
        parse_spec("fashion-mnist[1," + BIG + "]")
    with pytest.raises(TaskError, match="permute needs a non-negative integer seed"):
        tasks.get("mnist+permute(" + BIG + ")")


@pytest.mark.parametrize("text, length", [
    ("mnist 3 and 8" + "\x00" * 100_000, "100,013"),
    ("mnist 3 and 8 " * 80_000, "1,119,999"),
    ("mnist 3\n" + "\n" * 20_000 + "and 8", "20,013"),
])
def test_a_text_past_10_000_characters_is_refused_naming_its_length(text, length):
    for read in (text_to_spec, tasks.parse, tasks.resolve):
        with pytest.raises(TaskError, match=re.escape(f"a task description of {length} characters (")) as e:
            read(text)
        assert "at most 10,000 are read" in str(e.value) and len(str(e.value)) < 300  # not the text quoted whole


def test_a_long_text_under_the_limit_still_parses():
    assert text_to_spec("mnist 3 and 8" + " " * 9_000 + "inverted") == "mnist[3,8]+invert"
    assert text_to_spec("  " * 20_000 + "mnist 3 and 8") == "mnist[3,8]"  # counted once stripped


def test_a_huge_size_is_the_size_error_not_a_crash():
    with pytest.raises(TaskError, match="is not the input size of mnist"):
        text_to_spec("mnist " + "9" * 5000 + "x28")
