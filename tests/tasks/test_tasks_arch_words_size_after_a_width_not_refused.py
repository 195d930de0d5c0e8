"""Free text: "channels 28 by 28" (a size where a width goes) is refused, but a size after a unit word that has its own
width is no width: "mnist cnn 32 channels 28 by 28 images" and "32 filters 3 by 3" are 32 channels, as before 7ee373f
(they were refused: "'channels 28 by 28' names a size, not a number of channels")."""

from __future__ import annotations

import pytest

from metanet.errors import ArchError, TaskError
from metanet.tasks.arch_text import arch_from_words, arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text", [
    "mnist cnn 32 channels 28 by 28 images",
    "mnist 32 filters 3 by 3",
    "mnist cnn, 32 channels 3 by 3 kernels",
    "a cnn with 32 feature maps 28 by 28 on mnist",
])
def test_a_size_after_the_width_is_read_as_before(text: str) -> None:
    assert text_to_spec(text) == "mnist"
    words = arch_words(text)
    assert words == {"family": "cnn", "widths": (32,)}
    assert str(arch_from_words(words, (1, 28, 28), 10)) == "cnn:1-32-32-10:relu:k3:s2"


def test_a_conv_word_between_the_width_and_the_unit_word() -> None:
    assert text_to_spec("mnist 32 conv filters 3 by 3") == "mnist"  # was refused as 'filters 3 by 3'
    assert arch_words("mnist 32 conv filters 3 by 3")["family"] == "cnn"


@pytest.mark.parametrize("text, said", [
    ("channels 28 by 28", "channels 28 by 28"),
    ("digits cnn channels 8 by 8", "channels 8 by 8"),
    ("mnist cnn 32 channels, channels 8 by 8", "channels 8 by 8"),  # the second has no width of its own
    ("mnist cnn 32 channels then filters: 16 by 16", "filters: 16 by 16"),
    ("mnist cnn 32 filters 3 by 3, channels 8 by 8", "channels 8 by 8"),  # the first is no size: the second is
])
def test_a_size_where_the_width_goes_is_refused(text: str, said: str) -> None:
    with pytest.raises(ArchError, match=f"'{said}' names a size"):
        arch_words(text)
    with pytest.raises(TaskError, match=f"'{said}' names a size"):
        text_to_spec(text)
