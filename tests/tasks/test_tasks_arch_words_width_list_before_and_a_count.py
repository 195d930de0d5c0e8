"""A list of widths followed by "and" and a count of something else ("hidden layers 128, 64 and 10 classes", "layers
of 64, 32 and 5 epochs") ends after its last width: the width before the "and" was dropped as if it started the count
(widths (128,), and the 64 left to the task parser: "class 64 is out of range")."""

from __future__ import annotations

import pytest

from metanet.tasks.arch_text import arch_from_words, arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, widths", [
    ("mnist hidden layers 128, 64 and 10 classes", (128, 64)),
    ("mnist layers of 64, 32 and 5 epochs", (64, 32)),
    ("mnist layers of 64, 32 and 100 steps", (64, 32)),
    ("mnist layers of 64 and 10 classes", (64,)),
    ("mnist layers of 64 and 32, 2-3 epochs", (64, 32)),  # a range of counts still ends the list before it
    ("mnist a layer of 64, 1-2 epochs", (64,)),
])
def test_a_count_after_and_leaves_the_widths_before_it(text: str, widths: tuple) -> None:
    assert arch_words(text)["widths"] == widths


def test_the_task_and_network_of_a_list_then_a_class_count() -> None:
    text = "mlp on mnist, hidden layers 128, 64 and 10 classes"
    assert text_to_spec(text) == "mnist"
    assert str(arch_from_words(arch_words(text), (1, 28, 28), 10)) == "mlp:784-128-64-10:relu"
