"""Free text: a range said to be exclusive after any separator ("mnist 3 to 8 - exclusive", "3 to 8: exclusive", an
en dash) asks which ends are left out, as after a comma or "(" or nothing: it was read as 3 to 8, both in. A range
said to leave out both ends ("3 to 8, both exclusive", "exclusive at both ends") is the classes in between: it was
3 to 8 as well."""

from __future__ import annotations

import pytest

from metanet.errors import TaskError
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text", [
    "mnist 3 to 8 - exclusive",
    "mnist 3 to 8 \u2013 exclusive",
    "mnist 3 to 8 \u2014 exclusive",
    "mnist 3 to 8 -- exclusive",
    "mnist 3 to 8: exclusive",
    "mnist 3 to 8; exclusive",
    "mnist 3 - 8 - exclusive",
    "mnist three to eight - exclusive",
    "mnist 3 to 8 - non-inclusive",
    "mnist 3 to 8: not inclusive",
    "mnist 3 to 8, exclusive",  # as before
    "mnist 3 to 8 (exclusive)",
    "mnist 3 to 8 exclusive",
    "mnist 0 to 9: exclusive of 9",
])
def test_an_exclusive_range_asks_which_ends_after_any_separator(text: str) -> None:
    with pytest.raises(TaskError, match=r"does not say which ends are left out; write the classes that are in, "
                                        r"e\.g\. 'mnist \d to \d' or 'mnist \d to \d'$") as e:
        text_to_spec(text)
    said = str(e.value).split(": ", 1)[1].split(" does not")[0]
    assert said.endswith(("exclusive'", "inclusive'")) and "-" not in said.replace("non-", "").replace("3 - 8", "")


@pytest.mark.parametrize("text, spec", [
    ("mnist 3 to 8 (both exclusive)", "mnist[4-7]"),
    ("mnist 3 to 8, both exclusive", "mnist[4-7]"),
    ("mnist 3 to 8 - both ends exclusive", "mnist[4-7]"),
    ("mnist 3 to 8 exclusive at both ends", "mnist[4-7]"),
    ("mnist 3-8 exclusive of both ends", "mnist[4-7]"),
    ("3 to 8, both exclusive", "mnist[4-7]"),
    ("mnist 0 to 10 both exclusive", "mnist[1-9]"),
    ("fashion classes 0 to 9 both exclusive", "fashion-mnist[1-8]"),
])
def test_both_ends_exclusive_is_the_classes_in_between(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec


@pytest.mark.parametrize("text, message", [
    ("mnist 3 to 4 both exclusive", "'3 to 4 both exclusive' leaves no class between 3 and 4; a task needs at least 2"),
    ("mnist 3 to 5 both exclusive", r"names only one class \(4\)"),
    ("mnist 0 to 12 both exclusive", "range '0 to 12' goes past 9"),
    ("mnist 8 to 3 both exclusive", "range '8 to 3' runs backwards"),
])
def test_both_ends_exclusive_of_too_few_classes_is_an_error(text: str, message: str) -> None:
    with pytest.raises(TaskError, match=message):
        text_to_spec(text)


@pytest.mark.parametrize("text, spec", [
    ("mnist 3 to 8 - inclusive", "mnist[3-8]"),
    ("mnist 3 to 8 both inclusive", "mnist[3-8]"),
    ("mnist 3 to 8 exclusively", "mnist[3-8]"),  # "only"
    ("mnist 0 to 9 - exclusive of 5", "mnist[0-4,6-9]"),
])
def test_inclusive_ranges_and_exclusions_are_read_as_before(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
