"""Free text: after a bare "hidden", a number that counts something else ("hidden 3 classes", "hidden 50%", "hidden 32
epochs") is no width, as the numbers after the first ("hidden 32 and 10 classes") already were not: "mnist, hidden 3
classes" wrote a 10-class mnist network of width 3 instead of saying that 3 classes name no classes."""

from __future__ import annotations

import pytest

from metanet.errors import TaskError
from metanet.tasks.arch_text import arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text", ["mnist, hidden 32%", "mnist, hidden 50 percent", "mnist, hidden 32 epochs",
                                  "mnist, hidden 3 classes", "mnist hidden 2-way"])
def test_a_counted_number_after_hidden_is_no_width(text: str) -> None:
    assert arch_words(text) is None


def test_a_class_count_after_hidden_stays_a_class_count() -> None:
    with pytest.raises(TaskError, match="'3 classes' asks for 3 classes but the text names no classes"):
        text_to_spec("mnist, hidden 3 classes")


@pytest.mark.parametrize("text, widths", [("mnist, hidden 32", (32,)), ("mnist, hidden 32 and 16", (32, 16)),
                                          ("mnist, hidden 64, 10 classes", (64,))])
def test_widths_after_hidden_stay_widths(text: str, widths: tuple) -> None:
    assert arch_words(text)["widths"] == widths
