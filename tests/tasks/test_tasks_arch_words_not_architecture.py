"""Words that are no architecture metanet writes, or no layer at all, in task text: refused or left alone, never a
silently different network."""

import pytest

from metanet.errors import ArchError
from metanet.tasks.arch_text import arch_from_words, arch_words


@pytest.mark.parametrize("text", [
    "a decision tree for mnist", "a random forest for mnist", "an SVM for mnist", "an ensemble of MLPs for mnist",
    "knn for digits", "gradient boosting on fashion-mnist", "naive bayes for digits",
])
def test_models_that_are_no_network_are_refused(text: str) -> None:
    with pytest.raises(ArchError, match="no architecture metanet writes"):
        arch_words(text)


@pytest.mark.parametrize("text", ["a CNN for 1 channel mnist", "an MLP for 1 channel 28x28 mnist images",
                                  "a cnn for 1 channel grayscale digits"])
def test_input_channels_are_no_width(text: str) -> None:
    assert "widths" not in arch_words(text)


@pytest.mark.parametrize("text", ["a single-layer perceptron for mnist", "a single layer perceptron for mnist"])
def test_single_layer_perceptron_is_linear(text: str) -> None:
    assert str(arch_from_words(arch_words(text), (1, 28, 28), 10)) == "mlp:784-10:relu"


@pytest.mark.parametrize("text, kernel", [("conv net, kernel 5, stride 1", 5), ("kernel 5x5 cnn", 5),
                                          ("a cnn, kernel=7", 7)])
def test_kernel_without_size_word_is_read(text: str, kernel: int) -> None:
    assert arch_words(text)["kernel"] == kernel


def test_kernel_number_is_no_class() -> None:
    from metanet import tasks
    assert tasks.text_to_spec("conv net, kernel 5, stride 1 for mnist") == "mnist"


def test_depth_as_a_number_word_above_ten_is_read() -> None:
    assert arch_words("an MLP with twelve hidden layers")["hidden_layers"] == 12
