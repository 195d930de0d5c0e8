"""A number with a fraction after a width already said ("32 hidden units 90.5% accuracy", "32 hidden units 1.5x
faster") is no width: its "hidden units" belong to the 32 (it was "'hidden units 90.5' is no width"). A width written
with a fraction is still refused."""

from __future__ import annotations

import pytest

from metanet.errors import ArchError
from metanet.tasks.arch_text import arch_words


@pytest.mark.parametrize("text", ["mnist 0-9 with 32 hidden units 90.5% accuracy",
                                  "fashion-mnist 3 and 8 with 32 hidden units 1.5x faster"])
def test_a_score_after_a_width_is_no_width(text: str) -> None:
    assert arch_words(text) == {"widths": (32,)}


@pytest.mark.parametrize("text", ["mnist hidden units 32.5", "mnist 3 and 8, hidden 32.5", "mnist, 32.5 hidden units"])
def test_a_width_with_a_fraction_is_refused(text: str) -> None:
    with pytest.raises(ArchError, match="whole number of units"):
        arch_words(text)


@pytest.mark.parametrize("text", ["mnist 3 vs 8 hidden 32.5", "mnist 0-4 width 32.5", "mnist 3 vs 8 hidden size 32.5"])
def test_a_fraction_after_classes_is_still_refused(text: str) -> None:
    with pytest.raises(ArchError, match="whole number of units"):
        arch_words(text)
