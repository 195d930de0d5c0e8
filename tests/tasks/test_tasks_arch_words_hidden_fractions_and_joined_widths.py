"""Bare "hidden" widths written with a fraction ("hidden 32.5": "names only one class (5)"), joined by a slash, an
arrow or a dash ("hidden 32/16", "hidden 32 -> 16": "class 16 is out of range"), or ending in one digit after two or
more ("hidden 32, 16 and 8": the 8 was the one class 8)."""

from __future__ import annotations

import pytest

from metanet.errors import ArchError
from metanet.tasks.arch_text import arch_from_words, arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text", ["mnist hidden 32.5", "mnist width 32.5", "mnist hidden size 32.5",
                                  "mnist 3 and 8, 32.5 units"])
def test_a_fraction_is_no_width(text: str) -> None:
    with pytest.raises(ArchError, match="whole number of units"):
        arch_words(text)


@pytest.mark.parametrize("text, spec, arch", [
    ("mnist hidden 32/16", "mnist", "mlp:784-32-16-10:relu"),
    ("mnist hidden 32 -> 16", "mnist", "mlp:784-32-16-10:relu"),
    ("mnist hidden 32-16", "mnist", "mlp:784-32-16-10:relu"),
    ("mnist 3/8 hidden 32 -> 16", "mnist[3,8]", "mlp:784-32-16-2:relu"),
    ("mnist hidden 32, 16 and 8", "mnist", "mlp:784-32-16-8-10:relu"),
    ("mnist hidden 32, 3 and 8", "mnist[3,8]", "mlp:784-32-2:relu"),  # one width, then classes: as before
])
def test_joined_hidden_widths(text: str, spec: str, arch: str) -> None:
    assert text_to_spec(text) == spec
    k = 2 if "[" in spec else 10
    assert str(arch_from_words(arch_words(text), (1, 28, 28), k)) == arch
