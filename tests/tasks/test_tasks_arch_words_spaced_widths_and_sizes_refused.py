"""Free text: numbers where a width goes that are no widths as written are an error naming the way to write them.

"16 32 64 channels" (spaced, no commas) was "classes 16, 32 are out of range"; "channels 28 by 28" (a size) was
"class 28 is out of range", and "digits cnn channels 8 by 8" silently the default cnn on all the digits."""

from __future__ import annotations

import pytest

from metanet.errors import ArchError, TaskError
from metanet.tasks.arch_text import arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, said, fix", [
    ("mnist 16 32 64 channels cnn", "16 32 64 channels", "16, 32, 64 channels"),
    ("a cnn with 16 32 64 channels on mnist", "16 32 64 channels", "16, 32, 64 channels"),
    ("mnist 128 64 hidden units", "128 64 hidden units", "128, 64 hidden units"),
])
def test_spaced_widths_before_a_unit_word_are_refused(text: str, said: str, fix: str) -> None:
    want = f"'{said}': numbers spaced before a unit word may be widths or other numbers; write the widths with " \
           f"commas, e.g. '{fix}'"
    with pytest.raises(ArchError, match=want):
        arch_words(text)
    with pytest.raises(TaskError, match=want):  # the task parser alone too (it named classes out of range)
        text_to_spec(text)


@pytest.mark.parametrize("text, said", [
    ("a cnn for mnist, channels 28 by 28", "channels 28 by 28"),
    ("digits cnn channels 8 by 8", "channels 8 by 8"),  # was the default cnn, silently
    ("mnist cnn filters: 16 by 16", "filters: 16 by 16"),
])
def test_a_size_after_channels_is_refused(text: str, said: str) -> None:
    want = f"'{said}' names a size, not a number of channels: a conv layer's width is one number, e.g. 'channels 32'"
    with pytest.raises(ArchError, match=want):
        arch_words(text)
    with pytest.raises(TaskError, match=want):
        text_to_spec(text)


@pytest.mark.parametrize("text, spec, words", [
    ("mnist seed 42 64 units", "mnist", {"widths": (64,)}),  # a setting's value, then the width
    ("mnist 16, 32, 64 channels cnn", "mnist", {"family": "cnn", "widths": (16, 32, 64)}),
    ("mnist hidden 64 32 units", "mnist", {"widths": (64, 32)}),
    ("mnist cnn, channels 16 x 16", "mnist", {"family": "cnn", "widths": (16, 16)}),
    ("mnist 3 vs 8 64 channels cnn", "mnist[3,8]", {"family": "cnn", "widths": (64,)}),
])
def test_widths_written_otherwise_are_still_read(text: str, spec: str, words: dict) -> None:
    assert text_to_spec(text) == spec
    assert arch_words(text) == words
