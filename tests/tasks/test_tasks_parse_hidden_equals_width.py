"""Free text: "hidden = 32" after the classes is a width, not a count of hidden layers taking the class before it
("mnist 3 and 8 hidden = 32" was "names only one class (3)")."""

from __future__ import annotations

import pytest

from metanet.tasks.arch_text import arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, width", [
    ("mnist 3 and 8 hidden = 32", 32),
    ("mnist 3 and 8 hidden=64", 64),
    ("mnist 3 and 8 hidden: 16", 16),
    ("mnist 3, 8 hidden: 16", 16),
    ("mnist 3 8 hidden = 16", 16),
])
def test_hidden_equals_after_the_classes_is_a_width(text: str, width: int) -> None:
    assert text_to_spec(text) == "mnist[3,8]"
    assert arch_words(text) == {"widths": (width,)}


@pytest.mark.parametrize("text, spec", [
    ("mnist 3 and 8, 2 hidden", "mnist[3,8]"),  # a count of hidden layers still
    ("mnist 2 hidden layers, digits 3 and 8", "mnist[3,8]"),
    ("mnist 4 vs 8 with 3 hidden = 64", "mnist[4,8]"),  # a lone number before "hidden =" counts layers
    ("mnist digits 3 or 8 hidden = 32", "mnist[3,8]"),  # was all of mnist: "3 or 8 hidden" a count
])
def test_a_count_of_hidden_layers_stays_a_count(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
