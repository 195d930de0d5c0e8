"""An answer's "one" that is not the network asked about ("a tanh cnn? no, not that one", "no, the other one", "no,
the ones and sevens", "no, just the 1s and one hidden layer"): the "no" refuses the family, as before "a relu one"
was read as that family (they were a cnn; the last one lost its hidden layer)."""

from __future__ import annotations

import pytest

from metanet.tasks.arch_text import arch_from_words, arch_words


@pytest.mark.parametrize("text", ["mnist 3 vs 8, a tanh cnn? no, not that one",
                                  "mnist 3 vs 8, a tanh cnn? no, the other one",
                                  "mnist 3 vs 8, a tanh cnn? no, a different one",
                                  "mnist, a tanh cnn? no, only the ones and sevens"])
def test_the_answer_refuses_the_family(text: str) -> None:
    words = arch_words(text)
    assert words.get("not_family") == "cnn" and "family" not in words
    assert str(arch_from_words(words, (1, 28, 28), 2)) == "mlp:784-64-2:relu"


def test_one_hidden_layer_is_a_depth_not_the_family() -> None:
    words = arch_words("mnist 1 and 7, a tanh cnn? no, just the 1s and one hidden layer")
    assert words["hidden_layers"] == 1 and words.get("not_family") == "cnn"


def test_a_relu_one_is_still_the_family() -> None:
    assert arch_words("mnist 3 vs 8, a tanh cnn? no, a relu one")["family"] == "cnn"
