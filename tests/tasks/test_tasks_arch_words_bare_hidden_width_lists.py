"""Free text: "hidden 32 and 16", "hidden 128, 64" are one width per hidden layer, as "hidden 32" is one width (the
second number was read as a class: "class 16 is out of range"); only numbers no class has (two digits or more) join
the list, so the classes after it are kept and a count after it stays a count."""

from __future__ import annotations

import pytest

from metanet.tasks.arch_text import arch_from_words, arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec, arch", [
    ("mnist, hidden 32 and 16", "mnist", "mlp:784-32-16-10:relu"),
    ("mnist, hidden 128, 64", "mnist", "mlp:784-128-64-10:relu"),
    ("mnist 3 and 8 hidden 128, then 64", "mnist[3,8]", "mlp:784-128-64-2:relu"),
    ("mnist 3 vs 8, hidden 64 & 32 & 16", "mnist[3,8]", "mlp:784-64-32-16-2:relu"),
])
def test_hidden_then_numbers_no_class_has_are_widths(text: str, spec: str, arch: str) -> None:
    assert text_to_spec(text) == spec
    k = 2 if "[" in spec else 10
    assert str(arch_from_words(arch_words(text), (1, 28, 28), k)) == arch


@pytest.mark.parametrize("text, spec", [("mnist hidden 32, 3 and 8", "mnist[3,8]"),
                                        ("mnist hidden 32 and 10 classes", "mnist"),
                                        ("mnist 3 and 8 hidden 32, 20 epochs", "mnist[3,8]")])
def test_classes_and_counts_after_the_width_are_not_widths(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
    assert arch_words(text)["widths"] == (32,)
