"""Free text: a bare "hidden 64, 32" list ends before a range that counts something else ("and 2-3 epochs", "10-20
epochs"): "mnist hidden 64, 32 and 2-3 epochs" read the widths 64, 32, 2."""

from __future__ import annotations

import pytest

from metanet.tasks.arch_text import arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, widths", [
    ("mnist hidden 64, 32 and 2-3 epochs", (64, 32)),
    ("mnist hidden 32/16 and 2 to 3 epochs", (32, 16)),
    ("mnist hidden 64, 32, 10-20 epochs", (64, 32)),
    ("mnist hidden 32 -> 16 and 2-3 epochs", (32, 16)),
])
def test_bare_hidden_list_ends_before_a_counted_range(text: str, widths: tuple[int, ...]) -> None:
    assert arch_words(text) == {"widths": widths}
    assert text_to_spec(text) == "mnist"


def test_a_last_width_of_one_digit_is_still_read() -> None:
    assert arch_words("mnist hidden 64, 32 and 8") == {"widths": (64, 32, 8)}
