"""Architecture words: an arrow between two depths ("2 -> 4 layers") is a range of depths, refused as "2-3 hidden
layers" is; it was read as 3 hidden layers, and the task parser took its 2 as a class (mnist[3,8,2])."""

from __future__ import annotations

import pytest

from metanet.errors import ArchError
from metanet.tasks.arch_text import arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text", ["mnist 3 vs 8, 2 -> 4 layers", "mnist 3 vs 8, 2->4 hidden layers",
                                  "mnist 3 vs 8, 2 → 3 conv layers"])
def test_an_arrow_between_depths_is_a_range(text: str) -> None:
    assert text_to_spec(text) == "mnist[3,8]"
    with pytest.raises(ArchError, match="names a range of depths; metanet writes one network: say one depth"):
        arch_words(text)


@pytest.mark.parametrize("text, words", [
    ("mnist 3 vs 8, 784 -> 128 -> 10", {"full": (784, 128, 10)}),
    ("mnist 3 vs 8 with hidden layers 128 -> 64", {"widths": (128, 64)}),
])
def test_arrows_between_widths_stay_widths(text: str, words: dict) -> None:
    assert text_to_spec(text) == "mnist[3,8]"
    assert arch_words(text) == words
