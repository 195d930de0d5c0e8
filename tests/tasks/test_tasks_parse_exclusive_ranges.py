"""``tasks.parse`` of a range said to be exclusive ("mnist 3 to 8 exclusive"): which ends are left out, the text does
not say, as with "between 3 and 8"; it was read as 3 to 8 with both ends in ("exclusive" was a filler word)."""

from __future__ import annotations

import pytest

from metanet.errors import TaskError
from metanet.tasks import parse


@pytest.mark.parametrize("text, ways", [
    ("mnist 3 to 8 exclusive", ["'mnist 3 to 7'", "'mnist 4 to 7'"]),
    ("mnist digits 3 to 8 (exclusive)", ["'mnist 3 to 7'", "'mnist 4 to 7'"]),
    ("mnist 3-8 exclusive", ["'mnist 3 to 7'", "'mnist 4 to 7'"]),
    ("mnist 3 to 8, exclusive of 8", ["'mnist 3 to 7'", "'mnist 4 to 7'"]),
    ("mnist 3 to 8 non-inclusive", ["'mnist 3 to 7'", "'mnist 4 to 7'"]),
    ("mnist three to eight exclusive", ["'mnist 3 to 7'", "'mnist 4 to 7'"]),
    ("mnist 0 to 10 exclusive", ["'mnist 0 to 9'", "'mnist 1 to 9'"]),
    ("mnist 3 to 5 exclusive", ["'mnist 3 to 4'"]),
])
def test_an_exclusive_range_asks_which_ends_are_out(text, ways):
    with pytest.raises(TaskError, match="does not say which ends are left out") as e:
        parse(text)
    assert str(e.value).endswith("e.g. " + " or ".join(ways))
    for way in ways:  # the advice parses
        assert parse(way.strip("'")).name.startswith("mnist")


def test_an_exclusive_range_of_too_few_classes_says_a_task_needs_two():
    with pytest.raises(TaskError, match=r"which ends are left out; write the classes that are in \(a task needs at "
                                        r"least 2\)$"):
        parse("mnist 3 to 4 exclusive")


@pytest.mark.parametrize("text, name", [
    ("mnist 3 to 8 inclusive", "mnist[3-8]"),
    ("mnist 3 to 8", "mnist[3-8]"),
    ("exclusively mnist 3 to 8", "mnist[3-8]"),  # "only"
])
def test_inclusive_and_plain_ranges_are_read_as_before(text, name):
    assert parse(text).name == name


@pytest.mark.parametrize("text, message", [
    ("mnist 3 to 80 exclusive", "goes past 9"),
    ("mnist 8 to 3 exclusive", "runs backwards"),
    ("mnist 1 to " + "9" * 5000 + " exclusive", "goes past 9"),
])
def test_other_range_errors_come_first(text, message):
    with pytest.raises(TaskError, match=message):
        parse(text)
