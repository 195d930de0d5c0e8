"""A network asked about and answered no by "a ... one" ("a tanh cnn? no, a relu one"): the "one" is the family asked
about, the "no" refuses the other words (it refused the family too, so the other family was written)."""

from __future__ import annotations

import pytest

from metanet.tasks.arch_text import arch_from_words, arch_words


@pytest.mark.parametrize("text, arch", [
    ("mnist 3 and 8, a tanh cnn? no, a relu one", "cnn:1-32-32-2:relu:k3:s2"),
    ("mnist 3 and 8, a tanh mlp? no, a relu one", "mlp:784-64-2:relu"),
    ("a relu mlp? nope, a tanh one for mnist 3 and 8", "mlp:784-64-2:tanh"),
    ("mnist 3 and 8, a 3-layer mlp? no, a 2-layer one", "mlp:784-64-2:relu"),
    # a family asked about alone: its "no" refuses it, as before
    ("mnist 3 and 8, a cnn? no, a relu one", "mlp:784-64-2:relu"),
    ("mnist 3 and 8, a tanh cnn? no, a relu mlp", "mlp:784-64-2:relu"),
])
def test_the_answer_one_is_the_family_asked_about(text: str, arch: str) -> None:
    assert str(arch_from_words(arch_words(text), (1, 28, 28), 2)) == arch
