"""Architecture words: a network asked about and answered no, the answer naming another of the same family ("a tanh
mlp? no, a relu mlp"), is the answer's, as a class list answered no is; it was "asks for 'mlp' and refuses it"."""

from __future__ import annotations

import pytest

from metanet.errors import ArchError
from metanet.tasks.arch_text import arch_from_words, arch_words
from metanet.tasks.parse import text_to_spec


def test_the_answer_wins() -> None:
    text = "a tanh mlp? no, a relu mlp for digits"
    assert text_to_spec(text) == "mnist"
    words = arch_words(text)
    assert words == {"family": "mlp", "activation": "relu", "not_activations": ("tanh",)}
    assert str(arch_from_words(words, (1, 28, 28), 10)) == "mlp:784-64-10:relu"


@pytest.mark.parametrize("text, words", [
    ("a residual mlp? no, a plain mlp", {"family": "mlp", "skips": False}),
    ("mnist, a gelu cnn? no: a tanh cnn", {"family": "cnn", "activation": "tanh", "not_activations": ("gelu",)}),
])
def test_the_parts_the_answer_names_again_are_not_refused(text: str, words: dict) -> None:
    assert arch_words(text) == words


@pytest.mark.parametrize("text", ["a relu mlp. a tanh mlp? no", "an mlp not needed, an mlp"])
def test_asked_before_the_question_or_refused_without_one_is_still_an_error(text: str) -> None:
    with pytest.raises(ArchError, match="asks for 'mlp' and refuses it"):
        arch_words(text)
