"""Colour inputs named in task text ("a 3-channel CNN for mnist", "three-channel images", "in_channels=3") are a
TaskError naming the data set's 1 channel: every data set metanet has is grey, and they were silently its grey
inputs. "1-channel" and a layer's width ("a cnn with 3 channels") are read as before."""

from __future__ import annotations

import pytest

from metanet.errors import TaskError
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, said, base", [
    ("a 3-channel CNN for mnist", "3-channel", "mnist"),
    ("a cnn for 3 channel mnist images 3 vs 8", "3 channel", "mnist"),
    ("fashion mnist, three-channel images", "three-channel", "fashion-mnist"),
    ("sklearn digits with 3 input channels", "3 input channels", "digits"),
    ("a cnn with in_channels=3 for mnist", "in_channels=3", "mnist"),
])
def test_colour_inputs_are_refused(text: str, said: str, base: str) -> None:
    with pytest.raises(TaskError, match=f"'{said}' is not the input of {base}, whose inputs have 1 channel"):
        text_to_spec(text)


@pytest.mark.parametrize("text, spec", [
    ("a 1-channel CNN for mnist", "mnist"),
    ("a cnn with 3 channels for mnist 3 vs 8", "mnist[3,8]"),  # a layer's width
    ("a cnn with 16 output channels for mnist", "mnist"),
])
def test_grey_inputs_and_widths_are_read_as_before(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
