"""Free text: after "hidden 64", a number joined by a space only is no second width when it counts something, also
with a word between or a count arch_text did not list ("hidden 64 500 training images", "hidden 64 10 iterations":
the 500, the 10 were widths); "hidden 64 32" and "hidden 64 32 relu" are still two widths."""

from __future__ import annotations

import pytest

from metanet.tasks.arch_text import arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec, widths", [
    ("mnist hidden 64 500 training images", "mnist", (64,)),
    ("mnist 3 vs 8 hidden 64 200 labelled examples", "mnist[3,8]", (64,)),
    ("mnist hidden 128 64 100 training steps", "mnist", (128, 64)),
    ("mnist hidden 64 32 10 random seeds", "mnist", (64, 32)),
    ("mnist hidden 64 10 iterations", "mnist", (64,)),
    ("mnist hidden 32 20 trials", "mnist", (32,)),
    ("mnist hidden 32 16 with seed 4", "mnist", (32, 16)),
    ("mnist hidden 64 32 relu", "mnist", (64, 32)),
])
def test_a_count_after_bare_hidden_widths_is_no_width(text: str, spec: str, widths: tuple[int, ...]) -> None:
    assert text_to_spec(text) == spec
    assert arch_words(text)["widths"] == widths
