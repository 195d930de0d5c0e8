"""A task name followed by words of a network alone ("mnist[3,8] with hidden sizes [64, 32]") is that task:
metanet.generate reads the network from the text; it was a bad task name ("unexpected 'withhiddensizes[64,32]'").
A name followed by more of a task keeps the grammar's error."""

from __future__ import annotations

import pytest

from metanet.errors import TaskError
from metanet.tasks.arch_text import arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec", [
    ("mnist[3,8] with hidden sizes [64, 32]", "mnist[3,8]"),
    ("mnist[3,8], a 2-layer mlp", "mnist[3,8]"),
    ("mnist[0-4]+invert with 2 hidden layers of 64", "mnist[0-4]+invert"),
    ("digits[3,8] an MLP [256, 128]", "digits[3,8]"),
    ("fashion-mnist[7,9] a cnn, kernel 5, 10 epochs", "fashion-mnist[7,9]"),
])
def test_a_task_name_then_a_network_is_the_task(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec


def test_the_network_is_still_read_from_the_text() -> None:
    assert arch_words("mnist[3,8] with hidden sizes [64, 32]") == {"widths": (64, 32)}


@pytest.mark.parametrize("text, said", [
    ("mnist[3,8] inverted", "unexpected 'inverted' after 'mnist\\[3,8\\]'"),
    ("mnist[3,8] with 4 and 9", "unexpected 'with4and9'"),
    ("mnist[3,8] on fashion", "unexpected 'onfashion'"),
    ("mnist[3,8] rotated, a 2-layer mlp", "unexpected 'rotated,a2-layermlp'"),
    ("mnist[3,8] binary", "unexpected 'binary'"),
])
def test_a_task_name_then_more_of_a_task_is_the_grammar_error(text: str, said: str) -> None:
    with pytest.raises(TaskError, match=said):
        text_to_spec(text)
