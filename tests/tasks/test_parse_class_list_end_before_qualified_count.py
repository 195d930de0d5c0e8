"""A class digit ending a range or 'vs'/'or' list keeps its class before a qualifier word and a count noun."""
import pytest

from metanet.tasks import text_to_spec


@pytest.mark.parametrize("text, spec", [
    ("mnist 3 vs 8 more epochs", "mnist[3,8]"),  # was "names only one class (3)"
    ("mnist 3 vs 8 training runs", "mnist[3,8]"),
    ("digits 0-4 more epochs", "mnist[0-4]"),  # was all of mnist, silently
    ("digits 0-4 random seeds", "mnist[0-4]"),
    ("digits 0 to 4 extra epochs", "mnist[0-4]"),
    ("mnist 3 or 8 random runs", "mnist[3,8]"),
])
def test_list_end_is_a_class(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec


@pytest.mark.parametrize("text, spec", [
    ("mnist 10 more epochs", "mnist"),  # a count still: the commits' own readings are kept
    ("mnist 3 vs 8, 5 more epochs", "mnist[3,8]"),
    ("mnist 3 vs 8 and 5 more epochs", "mnist[3,8]"),
    ("mnist 3 vs 8 5 random seeds", "mnist[3,8]"),
])
def test_other_numbers_still_count(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
