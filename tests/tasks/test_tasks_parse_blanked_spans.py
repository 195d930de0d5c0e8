"""Free text: the spans parse blanks as no classes (sizes "3x3" / "3 by 3", scores "loss below 1", "accuracy above
95", decimals, seeds) do not join the class number before them to the counted word after them. Blanked with spaces,
"3 vs 8 3x3 kernels" became "8 kernels" (a count, so one class), and "digits 3 and 8 loss below 1 ms" "8 ms"."""

from __future__ import annotations

import pytest

from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec", [
    ("mnist 3 vs 8 3x3 kernels", "mnist[3,8]"),
    ("mnist 3 vs 8 3 by 3 kernels", "mnist[3,8]"),
    ("mnist 3 vs 8 5x5 filters", "mnist[3,8]"),
    ("digits 3 and 8 loss below 1 ms", "mnist[3,8]"),
    ("digits 3 and 8 accuracy above 95 percent", "mnist[3,8]"),
    ("mnist 3 vs 8 error below 2 percent", "mnist[3,8]"),
    ("mnist 3 vs 8 seed 4 epochs", "mnist[3,8]"),
])
def test_a_class_before_a_blanked_span_stays_a_class(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec


@pytest.mark.parametrize("text, spec", [
    ("mnist 3 vs 8, 2 conv layers of 3x3 kernels", "mnist[3,8]"),  # counts still counted
    ("mnist 0 to 4, 5 or more epochs", "mnist[0-4]"),
    ("mnist 3 and 8, 2-3 hidden layers", "mnist[3,8]"),
    ("mnist digits 3 and 8 with seeds 1, 2 and 3", "mnist[3,8]"),
])
def test_counts_are_still_no_classes(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
