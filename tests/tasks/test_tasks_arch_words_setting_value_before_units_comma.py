"""Free text: a setting's value before a comma and a one-digit width ("kernel 3, 8 filters", "seed 3, 8 units",
"stride=2, 8 channels") is no class: the width stays a width, and both the task parser and arch_words read the text.
(A comma-joined digit after a data set or class word, "mnist 3, 8 units", may still be a class list: asked.)"""

from __future__ import annotations

import pytest

from metanet.errors import ArchError
from metanet.tasks.arch_text import arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec, words", [
    ("mnist cnn, kernel 3, 8 filters", "mnist", {"family": "cnn", "widths": (8,), "kernel": 3}),
    ("digits 3 vs 8, kernel size 5, 6 channels", "mnist[3,8]", {"family": "cnn", "widths": (6,), "kernel": 5}),
    ("mnist kernel=3, 8 filters", "mnist", {"family": "cnn", "widths": (8,), "kernel": 3}),
    ("mnist, stride 2, 8 channels", "mnist", {"family": "cnn", "widths": (8,), "stride": 2}),
    ("mnist, seed 3, 8 units", "mnist", {"widths": (8,)}),
    ("mnist, depth 3, 8 units", "mnist", {"widths": (8,), "hidden_layers": 2}),
    ("mnist, batch size 4, 8 units", "mnist", {"widths": (8,)}),
])
def test_a_settings_value_before_a_comma_is_no_class(text: str, spec: str, words: dict) -> None:
    assert text_to_spec(text) == spec
    assert arch_words(text) == words


@pytest.mark.parametrize("text", ["mnist 3, 8 units", "digits: 4, 9 channels", "fashion-mnist 3, 8 filters"])
def test_digits_after_a_data_set_are_still_asked_about(text: str) -> None:
    with pytest.raises(ArchError, match="may hold the classes"):
        arch_words(text)
