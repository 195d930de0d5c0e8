"""Free text: "hidden" followed by a number that counts something else ("hidden 32 epochs", "hidden 32%") is no width,
and the class before it stays a class: "mnist 3 vs 8 hidden 32 epochs" was refused as the one class 3 (its 8 taken
for a count of hidden layers)."""

from __future__ import annotations

import pytest

from metanet.tasks.arch_text import arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text", [
    "mnist 3 vs 8 hidden 32 epochs",
    "mnist 3 vs 8 hidden 32%",
    "mnist 3, 8 hidden 32 epochs",
    "mnist 3 and 8 hidden 5 epochs",
])
def test_class_before_hidden_and_a_count_is_kept(text: str) -> None:
    assert text_to_spec(text) == "mnist[3,8]"
    assert arch_words(text) is None


def test_a_number_before_hidden_and_a_width_still_counts() -> None:
    # "with 2 hidden 64 units": the 2 counts hidden layers, no class
    assert text_to_spec("mnist 3 and 8 with 2 hidden 64 units") == "mnist[3,8]"
