"""Free text: "then" joins widths, but not from a digit of a class list: "mnist 3 and 8 then 64 units" is classes 3
and 8 and one width (it was the widths 8, 64 and the one class 3); "mnist, 3, 8, 64 then 32 units" keeps its classes
too (it was all of mnist with the widths 3, 8, 64, 32)."""

from __future__ import annotations

import pytest

from metanet.tasks.arch_text import arch_from_words, arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, arch", [
    ("mnist 3 and 8 then 64 units", "mlp:784-64-2:relu"),
    ("mnist 3 & 8 then 64 units", "mlp:784-64-2:relu"),
    ("mnist, 3, 8 then 64 units", "mlp:784-64-2:relu"),
    ("mnist 3 vs 8, 64 then 32 units", "mlp:784-64-32-2:relu"),
    ("mnist, 3, 8, 64 then 32 units", "mlp:784-64-32-2:relu"),
    ("mnist 3 vs 8, a cnn with 16 then 32 filters", "cnn:1-16-32-2:relu:k3:s2"),
])
def test_a_class_list_before_then_keeps_its_classes(text: str, arch: str) -> None:
    assert text_to_spec(text) == "mnist[3,8]"
    assert str(arch_from_words(arch_words(text), (1, 28, 28), 2)) == arch


def test_a_then_list_of_small_widths_is_still_read() -> None:
    text = "a cnn with 8 then 16 channels for mnist"
    assert text_to_spec(text) == "mnist"
    assert arch_words(text)["widths"] == (8, 16)
