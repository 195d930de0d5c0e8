"""Single digits before a unit word that may be classes ("mnist 3/8 channels", "mnist 3 and 8 units", "mnist 3/8/64
units", "mnist 0-4 units"): they were read as widths on all ten classes (mlp:784-3-8-10); an ArchError asks which.
Lists of widths ("16/32 channels", "8/16/32 channels") and a width after a closed class list stay widths."""

from __future__ import annotations

import pytest

from metanet.errors import ArchError
from metanet.tasks.arch_text import arch_from_words, arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, said", [
    ("mnist 3/8 channels", "'3/8'"),
    ("mnist 3 and 8 units", "'3 and 8'"),
    ("mnist 3/8/64 units", "'3/8'"),
    ("mnist 0-4 units", "'0-4'"),
    ("mnist 3 vs 8 filters", "'3 vs 8'"),
])
def test_digits_that_may_be_classes_are_an_error(text: str, said: str) -> None:
    with pytest.raises(ArchError, match=f"may hold the classes {said} or be widths"):
        arch_words(text)


@pytest.mark.parametrize("text, spec, arch", [
    ("mnist 3/8, 64 units", "mnist[3,8]", "mlp:784-64-2:relu"),
    ("mnist 3 and 8, 5 units", "mnist[3,8]", "mlp:784-5-2:relu"),
    ("mnist 3 vs 8 - 5 units", "mnist[3,8]", "mlp:784-5-2:relu"),
    ("a cnn with 8/16/32 channels for mnist", "mnist", "cnn:1-8-16-32-10:relu:k3:s2"),
])
def test_widths_stay_widths(text: str, spec: str, arch: str) -> None:
    assert text_to_spec(text) == spec
    k = 2 if "[" in spec else 10
    assert str(arch_from_words(arch_words(text), (1, 28, 28), k)) == arch
