"""Width lists in task text ("16 and 32 filters", "hidden sizes 128, 64") are one width per hidden layer, and the
numbers of architecture words are no classes of the task."""

import pytest

from metanet import tasks
from metanet.tasks.arch_text import arch_from_words, arch_words


@pytest.mark.parametrize("text, words", [
    ("a CNN with 16 and 32 filters for mnist", {"family": "cnn", "widths": (16, 32)}),
    ("a cnn with 8, 16 and 32 channels for mnist", {"family": "cnn", "widths": (8, 16, 32)}),
    ("an mlp with hidden sizes 128, 64 for mnist", {"family": "mlp", "widths": (128, 64)}),
    ("an mlp with hidden layers 128 and 64 for digits", {"family": "mlp", "widths": (128, 64)}),
    ("hidden layers: 64, 32 for digits", {"widths": (64, 32)}),
    ("an mlp with 2 hidden layers: 128 and 64 units for digits",
     {"family": "mlp", "widths": (128, 64), "hidden_layers": 2}),
    # class lists before a width stay classes: one width
    ("mnist 3 and 8, 64 units", {"widths": (64,)}),
    ("digits 0, 1 and 2 with 32 units", {"widths": (32,)}),
])
def test_width_lists_are_read_whole(text: str, words: dict) -> None:
    assert arch_words(text) == words


@pytest.mark.parametrize("text, spec", [
    ("a CNN with 16 and 32 filters for mnist", "mnist"),
    ("an mlp with hidden sizes 128, 64 for mnist", "mnist"),
    ("an mlp with 2 hidden layers: 128 and 64 units for digits", "mnist"),
    ("mnist 3 and 8, 64 units", "mnist[3,8]"),
    # the blanked widths must leave "layers", else the depth reads as a class ("names only one class (2)")
    ("a network with 2 layers of 128 units for mnist", "mnist"),
    ("a CNN with 3 conv layers of 16 filters for fashion-mnist", "fashion-mnist"),
])
def test_width_list_numbers_are_no_classes(text: str, spec: str) -> None:
    assert tasks.text_to_spec(text) == spec


def test_filter_list_builds_one_conv_layer_per_width() -> None:
    arch = arch_from_words(arch_words("a CNN with 16 and 32 filters"), (1, 28, 28), 10)
    assert str(arch) == "cnn:1-16-32-10:relu:k3:s2"
