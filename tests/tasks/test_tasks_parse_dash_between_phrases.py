"""Free text: a dash down to a smaller number before a depth separates two phrases ("mnist 3 vs 8 - 2 layers"), as
the architecture reader already read it; the task parser took "8 - 2 layers" for a count and kept the one class 3.
An ascending pair ("2 - 8 layers") is still a range of depths."""

from __future__ import annotations

import pytest

from metanet.errors import ArchError
from metanet.tasks.arch_text import arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec, words", [
    ("mnist 3 vs 8 - 2 layers", "mnist[3,8]", {"hidden_layers": 1}),
    ("mnist 3 vs 8 -> 2 layers", "mnist[3,8]", {"hidden_layers": 1}),
    ("mnist without 7 - 3 hidden layers", "mnist[0-6,8,9]", {"hidden_layers": 3}),
    ("mnist 3 and 8 - 2-layer mlp", "mnist[3,8]", {"family": "mlp", "hidden_layers": 1}),
    ("mnist, 64 - 2 layers", "mnist", {"hidden_layers": 1}),  # no class is 64
])
def test_a_dash_down_to_a_depth_separates_phrases(text: str, spec: str, words: dict) -> None:
    assert text_to_spec(text) == spec
    assert arch_words(text) == words


def test_an_ascending_pair_is_a_range() -> None:
    with pytest.raises(ArchError, match="'2 - 8 layers' names a range of depths"):
        arch_words("mnist 3 vs 2 - 8 layers")
