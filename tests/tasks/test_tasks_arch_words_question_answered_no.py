"""Architecture words: a network asked about and answered no ("a residual mlp? no") refuses the whole phrase, its
other words ("residual", "3-layer", "tanh") too; the skips of the refused mlp were kept, so the cnn written instead
failed with "skips are mlp-only"."""

from __future__ import annotations

import pytest

from metanet.nets import Arch
from metanet.tasks.arch_text import arch_from_words, arch_words

MNIST = (1, 28, 28)


@pytest.mark.parametrize("text, words", [
    ("a residual mlp? no", {"skips": False, "not_family": "mlp"}),
    ("mnist 3 vs 8, a 3-layer mlp? no", {"not_family": "mlp"}),
    ("a residual tanh mlp? no", {"skips": False, "not_activations": ("tanh",), "not_family": "mlp"}),
    ("a 3-layer residual mlp? no, a cnn", {"family": "cnn", "skips": False, "not_family": "mlp"}),
])
def test_a_phrase_answered_no_is_refused_whole(text: str, words: dict) -> None:
    assert arch_words(text) == words


def test_the_other_family_is_written() -> None:
    arch = arch_from_words(arch_words("mnist 3 vs 8, a residual mlp? no"), MNIST, 10)
    assert isinstance(arch, Arch) and str(arch) == "cnn:1-32-32-10:relu:k3:s2"


@pytest.mark.parametrize("text, words", [
    ("a cnn? no, an mlp", {"family": "mlp", "not_family": "cnn"}),
    ("a residual mlp with tanh? no", {"family": "mlp", "skips": True, "not_activations": ("tanh",)}),
    ("a residual mlp, a cnn? no", {"family": "mlp", "skips": True, "not_family": "cnn"}),
])
def test_words_outside_the_phrase_stay(text: str, words: dict) -> None:
    assert arch_words(text) == words
