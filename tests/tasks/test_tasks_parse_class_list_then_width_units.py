"""A class list right before a width and its unit word ("mnist 3/8 64 units", "mnist 3 to 8 16 filters", "mnist 3 vs
8 - 64 units"): the width's unit word was left once its number was blanked, and counted the classes before it (a
10-class network, or "names only one class (3)")."""

from __future__ import annotations

import pytest

from metanet.tasks.arch_text import arch_from_words, arch_words
from metanet.tasks.grammar import parse_spec
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec, arch", [
    ("mnist 3/8 64 units", "mnist[3,8]", "mlp:784-64-2:relu"),
    ("mnist 3/8 16 filters", "mnist[3,8]", "cnn:1-16-16-2:relu:k3:s2"),
    ("mnist 3 to 8 32 channels", "mnist[3-8]", "cnn:1-32-32-6:relu:k3:s2"),
    ("mnist 0-4 64 units", "mnist[0-4]", "mlp:784-64-5:relu"),
    ("mnist 3 or 8 64 units", "mnist[3,8]", "mlp:784-64-2:relu"),
    ("mnist 3 vs 8 - 64 units", "mnist[3,8]", "mlp:784-64-2:relu"),
    ("mnist 3 and 8 32 hidden units", "mnist[3,8]", "mlp:784-32-2:relu"),
    ("mnist 3/8/5 64 units", "mnist[3,8,5]", "mlp:784-64-3:relu"),
    ("fashion mnist 3 vs 8 16 filters", "fashion-mnist[3,8]", "cnn:1-16-16-2:relu:k3:s2"),
])
def test_classes_before_a_width_are_kept(text: str, spec: str, arch: str) -> None:
    assert text_to_spec(text) == spec
    k = len(parse_spec(spec).classes)
    assert str(arch_from_words(arch_words(text), (1, 28, 28), k)) == arch


@pytest.mark.parametrize("text, spec, arch", [
    ("mnist 3 to 8 then 64 units", "mnist[3-8]", "mlp:784-64-6:relu"),
    ("mnist 0-4 then 32 filters", "mnist[0-4]", "cnn:1-32-32-5:relu:k3:s2"),
])
def test_then_after_a_class_range_starts_the_widths(text: str, spec: str, arch: str) -> None:
    # the range's last class was read as the first width ("8 then 64"), leaving the one class 3
    assert text_to_spec(text) == spec
    assert str(arch_from_words(arch_words(text), (1, 28, 28), len(parse_spec(spec).classes))) == arch
