"""Widths written with slashes next to a network word ("mlp 128/64 for mnist", "a 128/64 mlp") are the hidden
widths (or all of them), as "an MLP [128, 64]" is: they were classes ("classes 128, 64 are out of range")."""

from __future__ import annotations

import pytest

from metanet.errors import TaskError
from metanet.tasks.arch_text import arch_from_words, arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, arch", [
    ("mlp 128/64 for mnist", "mlp:784-128-64-10:relu"),
    ("a 128/64 mlp for mnist", "mlp:784-128-64-10:relu"),
    ("an mlp 784/128/10", "mlp:784-128-10:relu"),
    ("a 256/128/64 network for mnist", "mlp:784-256-128-64-10:relu"),
])
def test_slashed_widths_are_read(text: str, arch: str) -> None:
    assert str(arch_from_words(arch_words(text), (1, 28, 28), 10)) == arch


@pytest.mark.parametrize("text, spec", [
    ("mlp 128/64 for mnist", "mnist"),
    ("a 128/64 mlp for mnist 3 vs 8", "mnist[3,8]"),
    ("mnist 3/8 mlp", "mnist[3,8]"),  # no number past 9: classes, as "digits 3-8 mlp"
])
def test_slashed_widths_are_no_classes(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec


def test_a_long_slashed_run_is_read_at_once() -> None:
    # no timed assertion (the project measures speed in benchmarks): each shorter run tried from each number took 5 s
    # and shows again as a slow test
    assert arch_words("1/" * 4990 + "1 mlp") == {"family": "mlp"}  # one-digit numbers: no widths
    with pytest.raises(TaskError, match="class 12 is out of range"):  # no network word: classes
        text_to_spec("mnist 3 vs 8 " + "12/" * 3000 + "x")
