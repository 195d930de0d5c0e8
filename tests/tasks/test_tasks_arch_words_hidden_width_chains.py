"""A chain of three or more widths said as hidden layers ("hidden layers 32 -> 16 -> 8", the documented "hidden
layers 128 -> 64" with one more) is read once: the hidden widths, or every width when it starts at the task's input
size and ends at its class count, as a bare list is read. It matched both as the hidden widths and as every width,
and was the error "the widths 32-16-8 and the hidden widths [32, 16, 8] of the text disagree"."""

from __future__ import annotations

import pytest

from metanet.tasks.arch_text import arch_from_words, arch_words


@pytest.mark.parametrize("text, arch", [
    ("mnist, hidden layers 32 -> 16 -> 8", "mlp:784-32-16-8-10:relu"),
    ("mnist hidden 128-64-32", "mlp:784-128-64-32-10:relu"),
    ("mnist, hidden layers 784 -> 128 -> 10", "mlp:784-128-10:relu"),  # every width: starts and ends as the task
    ("mnist, hidden layers 784 -> 128 -> 64", "mlp:784-784-128-64-10:relu"),
    ("mnist, hidden layers 128 -> 64", "mlp:784-128-64-10:relu"),
    ("mnist 784-128-10", "mlp:784-128-10:relu"),
])
def test_a_chain_of_hidden_widths_is_read_once(text, arch):
    assert str(arch_from_words(arch_words(text), (1, 28, 28), 10)) == arch


def test_a_full_chain_that_does_not_fit_the_task_is_still_refused():
    with pytest.raises(Exception, match="do not fit the task"):
        arch_from_words(arch_words("mnist 784-128-12"), (1, 28, 28), 10)
