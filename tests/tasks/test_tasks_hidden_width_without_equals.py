"""Free text: "hidden 32" is a width as "hidden = 32" is ("mnist, hidden 32" was "class 32 is out of range", and the
architecture reader read no width), and "hidden = 32" after a range keeps the range's last class ("mnist 3 to 8
hidden = 32" was "names only one class (3)")."""

from __future__ import annotations

import pytest

from metanet.tasks.arch_text import arch_from_words, arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec", [("mnist, hidden 32", "mnist"), ("mnist 3 and 8 hidden 32", "mnist[3,8]"),
                                        ("digits 3 vs 8, an mlp with hidden 32", "mnist[3,8]"),
                                        ("sklearn digits 0 to 4, hidden 32", "digits[0-4]")])
def test_hidden_then_a_number_is_a_width(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
    assert arch_words(text).get("widths") == (32,)


def test_the_width_is_written() -> None:
    assert str(arch_from_words(arch_words("mnist, hidden 32"), (1, 28, 28), 10)) == "mlp:784-32-10:relu"


@pytest.mark.parametrize("text, words", [("mnist, hidden 2 layers", {"hidden_layers": 1}),
                                         ("mnist 3 and 8, 2 hidden", None)])
def test_hidden_before_layers_or_alone_is_no_width(text: str, words: dict | None) -> None:
    assert arch_words(text) == words


@pytest.mark.parametrize("text, spec", [("mnist 3 to 8 hidden = 32", "mnist[3-8]"),
                                        ("mnist 0-4 hidden=32", "mnist[0-4]"), ("mnist 3 to 8 hidden 32", "mnist[3-8]"),
                                        ("mnist 4 vs 8 with 3 hidden = 64", "mnist[4,8]")])
def test_a_range_before_hidden_keeps_its_last_class(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
