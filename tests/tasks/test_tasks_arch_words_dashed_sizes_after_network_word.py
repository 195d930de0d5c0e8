"""Two numbers joined by a dash or an arrow right after a network word ("mlp 128-64", "an MLP 128 → 64") are a list
that may hold either, as "mlp 128/64" is: the hidden widths here. They were dropped (an mlp of the default width 64)
and read as classes by the task parser ("range '128-64' goes past 9")."""

from __future__ import annotations

import pytest

from metanet.errors import ArchError
from metanet.tasks.arch_text import arch_from_words, arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec, arch", [
    ("mnist, mlp 128-64", "mnist", "mlp:784-128-64-10:relu"),
    ("an MLP 128 → 64 on mnist 3 and 8", "mnist[3,8]", "mlp:784-128-64-2:relu"),
    ("mnist 0-4 using mlp: 128-64, seed 7", "mnist[0-4]", "mlp:784-128-64-5:relu"),
    ("mnist, cnn 16-32", "mnist", "cnn:1-16-32-10:relu:k3:s2"),
    ("mnist 3 vs 8, mlp 128/64 seed 7", "mnist[3,8]", "mlp:784-128-64-2:relu"),  # slashes as before
])
def test_a_dashed_pair_after_a_network_word_is_its_widths(text: str, spec: str, arch: str) -> None:
    assert text_to_spec(text) == spec
    k = {"mnist": 10, "mnist[3,8]": 2, "mnist[0-4]": 5}[spec]
    assert str(arch_from_words(arch_words(text), (1, 28, 28), k)) == arch


@pytest.mark.parametrize("text, words", [
    ("mnist mlp 0-4", {"family": "mlp"}),  # single digits: classes
    ("mnist mlp 128-64-10", {"family": "mlp", "full": (128, 64, 10)}),  # all the widths, as before
    ("mnist mlp 16-32 epochs", {"family": "mlp"}),  # a count, no widths
])
def test_what_is_no_pair_of_widths_is_read_as_before(text: str, words: dict) -> None:
    assert arch_words(text) == words


def test_a_dashed_range_of_depths_after_a_network_word_is_still_refused() -> None:
    with pytest.raises(ArchError, match="range of depths"):
        arch_words("mnist mlp 2-3 layers")
