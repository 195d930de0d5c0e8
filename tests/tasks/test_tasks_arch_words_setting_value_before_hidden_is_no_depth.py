"""Free text: the digit of "N hidden W" counts hidden layers after a data set, a class word, a network word or nothing
("mnist 2 hidden 32", "with 3 hidden = 64", "a 2 hidden 64 mlp"), not when it is another word's value: "mnist seed 3
hidden 64" was 3 hidden layers of 64, "batch size 8 hidden 64" 8 of them (before 8b50c42 one layer of 64, as now)."""

from __future__ import annotations

import pytest

from metanet.errors import ArchError
from metanet.tasks.arch_text import arch_from_words, arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec", [
    ("mnist seed 3 hidden 64", "mnist"),
    ("mnist 3 vs 8 seed 3 hidden 64", "mnist[3,8]"),
    ("mnist batch size 8 hidden 64", "mnist"),
    ("mnist epochs 5 hidden 64", "mnist"),
    ("mnist lr 3 hidden 64", "mnist"),
    ("mnist shots 5 hidden 64", "mnist"),
    ("mnist top 3 hidden 64", "mnist"),
])
def test_a_setting_value_is_no_depth(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
    words = arch_words(text)
    assert words == {"widths": (64,)}
    k = 2 if "[" in spec else 10
    assert str(arch_from_words(words, (1, 28, 28), k)) == f"mlp:784-64-{k}:relu"


def test_a_cnn_setting_value_is_no_depth() -> None:
    assert arch_words("mnist cnn kernel 3 hidden 64") == {"family": "cnn", "kernel": 3, "widths": (64,)}
    assert arch_words("mnist stride 2 hidden 64") == {"family": "cnn", "stride": 2, "widths": (64,)}


@pytest.mark.parametrize("text, n", [
    ("mnist 2 hidden 32", 2),  # a data set
    ("fashion 2 hidden 32", 2),  # a class word
    ("mnist with 3 hidden = 32", 3),  # a network word
    ("a 2 hidden 32 mlp on mnist", 2),  # an article
    ("mnist 3 vs 8 then 2 hidden 32", 2),
    ("mnist 3 vs 8 - 2 hidden 32", 2),  # no word: a dash
    ("2 hidden 32 on mnist seed 3", 2),
])
def test_a_count_after_the_words_it_may_follow(text: str, n: int) -> None:
    assert {k: v for k, v in arch_words(text).items() if k != "family"} == {"hidden_layers": n, "widths": (32,)}


def test_depths_said_twice_still_disagree() -> None:
    with pytest.raises(ArchError, match="two different depths"):
        arch_words("mnist with 3 hidden 64 x 2")
    # the seed's 3 says no depth: the repeat's 2 alone
    assert arch_words("mnist seed 3 hidden 64 x 2") == {"hidden_layers": 2, "widths": (64,)}
