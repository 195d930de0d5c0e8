"""tasks.parse alone (without metanet.generate, which reads the network first) refuses the numbers that may be widths
or classes as arch_words does: "mnist 3/8 channels" was all of mnist, "mnist hidden 32.5" the one class 5, "mnist 3,
8 units" the one class 3; the message is arch_words' own."""

from __future__ import annotations

import pytest

from metanet.errors import ArchError, TaskError
from metanet.tasks.arch_text import arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, said", [
    ("mnist 3/8 channels", "may hold the classes '3/8' or be widths"),
    ("mnist 3, 8 units", "may hold the classes '3, 8' or be widths"),
    ("mnist hidden 32.5", "'hidden 32.5' is no width"),
    ("digits 3 and 8, 32.5 units", "'32.5 units' is no width"),
])
def test_parse_alone_refuses_widths_that_may_be_classes(text: str, said: str) -> None:
    with pytest.raises(TaskError, match=said) as parsed:
        text_to_spec(text)
    with pytest.raises(ArchError) as read:
        arch_words(text)
    assert str(parsed.value) == str(read.value)


@pytest.mark.parametrize("text, spec", [
    ("a cnn with 16/32 channels for mnist 3 and 8", "mnist[3,8]"),
    ("mnist 3/8, 64 units", "mnist[3,8]"),
    ("digits 0-4 hidden 32", "mnist[0-4]"),
])
def test_widths_that_are_widths_still_parse(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
