"""Free text: a depth after a class list closed by "and" ("mnist 3 and 8 and 2 hidden layers of 64, 32, 16") is a
depth, as after "3 and 8, 2 hidden layers": it was read as a third class, writing a 3-class network of three hidden
layers for a text that asked for the classes 3 and 8 and two hidden layers (three widths: an error that says so)."""

from __future__ import annotations

import pytest

from metanet.errors import ArchError
from metanet.tasks.arch_text import arch_from_words, arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text", ["mnist 3 and 8 and 2 hidden layers of 64, 32, 16",
                                  "mnist 3 vs 8 and 2 hidden layers of 64, 32, 16",
                                  "mnist 3 & 8 and 2 hidden layers of 64, 32, 16"])
def test_the_depth_after_a_closed_class_list_is_a_depth(text: str) -> None:
    assert text_to_spec(text) == "mnist[3,8]"
    words = arch_words(text)
    assert words == {"widths": (64, 32, 16), "hidden_layers": 2}
    with pytest.raises(ArchError, match="2 hidden layers but 3 widths"):
        arch_from_words(words, (1, 28, 28), 2)


@pytest.mark.parametrize("text, spec", [("mnist 3 and 8 hidden layers of 64 and 32", "mnist[3,8]"),
                                        ("mnist 3, 8 and 2 hidden layers of 64, 32, 16", "mnist[3,8,2]")])
def test_the_last_class_of_an_open_list_stays_a_class(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
    assert "hidden_layers" not in arch_words(text)
