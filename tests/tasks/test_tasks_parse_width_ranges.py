"""Free text: a range of widths or depths ("64 or 128 units", "64 to 128 units") is a network's words, refused by
arch_words as a range; the task parser read its first number as a class ("class 64 is out of range")."""

from __future__ import annotations

import pytest

from metanet.errors import ArchError
from metanet.tasks.arch_text import arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text", ["mnist 3 vs 8, 64 or 128 units", "mnist 3 vs 8, 64 to 128 units",
                                  "mnist 3 vs 8 with 32 or 64 hidden units"])
def test_a_range_of_widths_names_no_class(text: str) -> None:
    assert text_to_spec(text) == "mnist[3,8]"
    with pytest.raises(ArchError, match="names a range of widths; metanet writes one network"):
        arch_words(text)


@pytest.mark.parametrize("text, spec", [
    ("mnist 3 vs 8, 2 or 3 layers", "mnist[3,8]"),
    ("mnist digits up to 4", "mnist[0-4]"),
    ("mnist 3 to 8", "mnist[3-8]"),
])
def test_class_ranges_and_depth_ranges_read_as_before(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
