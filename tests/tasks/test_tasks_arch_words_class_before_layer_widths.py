"""Free text: a digit that ends a class list before "hidden layers" / "layers" and a list of widths of another
length is a class: "mnist 3 and 8 hidden layers 64 then 32" is classes 3 and 8 and two hidden layers (it was 8
hidden layers and "names only one class (3)"). A depth that is no class-list digit still disagrees with the widths."""

from __future__ import annotations

import pytest

from metanet.errors import ArchError
from metanet.tasks.arch_text import arch_from_words, arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text", [
    "mnist 3 and 8 hidden layers 64 then 32", "mnist 3 and 8 layers of 64 then 32",
    "mnist 3 and 8, layers of 64 then 32", "mnist 3 vs 8 hidden layers of 64 and 32",
    "mnist 3, 8 hidden layers: 64, 32",
    "mnist three and eight hidden layers 64 then 32", "mnist 3 & 8 - hidden layers 64, 32 units",
])
def test_the_digit_before_a_list_of_widths_is_a_class(text: str) -> None:
    assert text_to_spec(text) == "mnist[3,8]"
    assert "hidden_layers" not in arch_words(text)
    assert str(arch_from_words(arch_words(text), (1, 28, 28), 2)) == "mlp:784-64-32-2:relu"


@pytest.mark.parametrize("text, spec", [("mnist 3 and 8, 3 hidden layers of 64 and 32", "mnist[3,8]"),
                                        ("mnist 3 hidden layers of 64 and 32", "mnist")])
def test_a_depth_that_is_no_class_still_disagrees(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
    with pytest.raises(ArchError, match="3 hidden layers but 2 widths"):
        arch_from_words(arch_words(text), (1, 28, 28), 2)


def test_a_depth_that_agrees_is_kept() -> None:
    text = "mnist 3 and 8 2 hidden layers of 64 and 32"
    assert text_to_spec(text) == "mnist[3,8]"
    assert arch_words(text) == {"widths": (64, 32), "hidden_layers": 2}
