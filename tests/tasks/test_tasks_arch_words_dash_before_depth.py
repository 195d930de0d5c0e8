"""Architecture words: a dash (or arrow) between a larger number and a depth ("mnist, 64 - 2 layers") separates the
phrases; no range runs downwards, so it is no range of depths. It was refused as one, with a message telling the
user to ask for 64 layers. An ascending pair ("2 - 3 layers") is still a range."""

from __future__ import annotations

import pytest

from metanet.errors import ArchError
from metanet.tasks.arch_text import arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec, words", [
    ("mnist, 64 - 2 layers", "mnist", {"hidden_layers": 1}),  # "2 layers": two weight layers
    ("sneakers vs boots, hidden 64 - 2 layers", "fashion-mnist[7,9]", {"hidden_layers": 1, "widths": (64,)}),
    ("mnist, 64 -> 2 layers", "mnist", {"hidden_layers": 1}),
])
def test_a_dash_after_a_larger_number_is_no_range(text: str, spec: str, words: dict) -> None:
    assert text_to_spec(text) == spec
    assert arch_words(text) == words


@pytest.mark.parametrize("text", ["fashion mnist 2 - 3 layers", "mnist, 2-3 hidden layers", "mnist, one - two layers"])
def test_an_ascending_pair_is_still_a_range(text: str) -> None:
    with pytest.raises(ArchError, match="names a range of depths"):
        arch_words(text)
