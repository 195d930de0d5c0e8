"""Free text: a class list or range right before "hidden sizes" / "hidden widths" keeps its classes. The number
before "hidden" was taken for a count of hidden layers: "digits 0-4 hidden sizes 64, 32" silently wrote all ten
digits, "digits 3 and 8 hidden sizes 128, 64" was refused as the one class 3."""

from __future__ import annotations

import pytest

from metanet.tasks.arch_text import arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec", [
    ("digits 0-4 hidden sizes 64, 32, 10 shots", "mnist[0-4]"),
    ("mnist 0 to 4 hidden sizes 64, 32", "mnist[0-4]"),
    ("digits 3 and 8 hidden sizes 128, 64", "mnist[3,8]"),
    ("mnist 3 vs 8 hidden widths 64 and 32", "mnist[3,8]"),
    ("fashion 3, 5 and 8 hidden sizes 128, 64", "fashion-mnist[3,5,8]"),
    ("mnist 3 and 8 hidden layer sizes 64, 32", "mnist[3,8]"),
])
def test_classes_before_hidden_sizes_are_kept(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
    assert arch_words(text)["widths"] in ((64, 32), (128, 64))


def test_a_count_of_hidden_layers_still_counts() -> None:
    # "N hidden layers" and "N hidden = W" count layers, not classes
    assert text_to_spec("mnist 3 and 8, 2 hidden layers of 64") == "mnist[3,8]"
    assert text_to_spec("mnist 3 and 8 with 2 hidden = 64") == "mnist[3,8]"
