"""Architecture words: "a cnn? no thanks" refuses the cnn, as "a cnn? no" and "a cnn? no, an mlp" do, and as the task
parser reads "inverted? no thanks" (no +invert); it asked for a cnn."""

from __future__ import annotations

import pytest

from metanet.tasks.arch_text import arch_from_words, arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, words", [
    ("mnist 3 and 8, a cnn? no thanks", {"not_family": "cnn"}),
    ("mnist, tanh? no thank you", {"not_activations": ("tanh",)}),
    ("mnist, a residual mlp? no thanks, a cnn", {"family": "cnn", "skips": False, "not_family": "mlp"}),
])
def test_no_thanks_refuses_what_was_asked_about(text: str, words: dict) -> None:
    assert arch_words(text) == words


def test_the_other_family_is_written() -> None:
    text = "mnist 3 and 8, a cnn? no thanks"
    assert text_to_spec(text) == "mnist[3,8]"
    assert str(arch_from_words(arch_words(text), (1, 28, 28), 2)) == "mlp:784-64-2:relu"


def test_no_followed_by_another_word_is_no_answer() -> None:
    # "no" that starts a phrase of its own is not an answer: "a cnn? no bias" keeps the cnn
    assert arch_words("mnist, a cnn? no bias")["family"] == "cnn"
