""""NxW" in a network's text: "3x64" is 3 hidden layers of 64 units, but "an MLP 64x64" or "400x300" (two hidden
layers of those widths, as papers write them) were read as 64 or 400 hidden layers; a count of 10 or more asks
which. Spelt out with words ("64 units x 12 layers") the count is read as said."""

from __future__ import annotations

import pytest

from metanet.errors import ArchError
from metanet.tasks.arch_text import arch_from_words, arch_words

MNIST = (1, 28, 28)


@pytest.mark.parametrize("text, said", [
    ("an mlp 64x64 for mnist", "'64x64' may be 64 hidden layers of 64 units or hidden layers of 64 and 64 units; "
                               "say which, e.g. '64 hidden layers of 64 units' or 'hidden sizes 64, 64'"),
    ("64x64 hidden layers", "'64x64' may be 64 hidden layers of 64 units"),
    ("mlp 400x300", "'400x300' may be 400 hidden layers of 300 units or hidden layers of 400 and 300 units"),
    ("an mlp with 256x256 hidden units", "'256x256' may be 256 hidden layers"),
])
def test_a_count_of_ten_or_more_before_x_asks_which(text: str, said: str) -> None:
    with pytest.raises(ArchError, match=said.replace("(", r"\(").replace(")", r"\)")):
        arch_words(text)


@pytest.mark.parametrize("text, arch", [
    ("an MLP 3x64 for mnist", "mlp:784-64-64-64-10:relu"),
    ("an mlp with 2x128 hidden units", "mlp:784-128-128-10:relu"),
    ("64 units x 12 layers", "mlp:784" + "-64" * 12 + "-10:relu"),  # the count is a count of layers: said so
    ("hidden sizes 64, 64", "mlp:784-64-64-10:relu"),  # what the error suggests is read
    ("12 hidden layers of 64 units", "mlp:784" + "-64" * 12 + "-10:relu"),
])
def test_small_counts_and_worded_counts_are_read(text: str, arch: str) -> None:
    assert str(arch_from_words(arch_words(text), MNIST, 10)) == arch
