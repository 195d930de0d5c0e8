"""Architecture words in a text spec: what `arch_words` reads; the task parser reads none of them as classes."""

from __future__ import annotations

import pytest

from metanet import tasks
from metanet.errors import ArchError


@pytest.mark.parametrize("text, spec", [
    # the numbers were classes: "class 32 is out of range", "classes 64, 32 are out of range"
    ("a network that can read digits with 3 hidden layers of 32", "mnist"),
    ("an mlp with layers of 64 and 32 units for sklearn digits", "digits"),
    ("sklearn digits with hidden layers of 64 and 32", "digits"),
    ("resnet-50 on mnist", "mnist"),
    ("mnist 3 vs 8, a cnn with kernel size 5 and stride 1", "mnist[3,8]"),
    # classes stay classes next to architecture words
    ("mnist 3 vs 8 with 2 hidden layers", "mnist[3,8]"),
    ("sneakers and boots, an mlp with layers of 128 and 64 units", "fashion-mnist[7,9]"),
])
def test_architecture_numbers_are_no_classes(text, spec):
    assert tasks.text_to_spec(text) == spec


@pytest.mark.parametrize("text, words", [
    ("a 2-layer MLP with 128 units for digits", {"family": "mlp", "hidden_layers": 1, "widths": (128,)}),
    ("a network that can read digits with 3 hidden layers of 32", {"hidden_layers": 3, "widths": (32,)}),
    ("mnist 3 vs 8 with 2 hidden layers", {"hidden_layers": 2}),
    ("a multilayer perceptron with two hidden layers of 64 neurons", {"family": "mlp", "hidden_layers": 2,
                                                                      "widths": (64,)}),
    ("layers of 64 and 32 units", {"widths": (64, 32)}),
    ("a fully connected network, width 256, gelu", {"family": "mlp", "widths": (256,), "activation": "gelu"}),
    ("a small convnet", {"family": "cnn"}),
    ("a convolutional network with 3 conv layers of 16 filters", {"family": "cnn", "hidden_layers": 3,
                                                                   "widths": (16,)}),
    ("a cnn with 5x5 kernels, stride 1", {"family": "cnn", "kernel": 5, "stride": 1}),
    ("a leaky relu mlp with a single hidden layer", {"family": "mlp", "activation": "leaky_relu", "hidden_layers": 1}),
    ("logistic regression", {"family": "mlp", "hidden_layers": 0}),
    ("an mlp 784-128-10", {"family": "mlp", "full": (784, 128, 10)}),
    ("mnist 3 vs 8", None),
    ("digits", None),
    ("3-channel images", None),  # the input's channels, no layer's width
])
def test_arch_words(text, words):
    from metanet.tasks.arch_text import arch_words

    assert arch_words(text) == words


@pytest.mark.parametrize("text, said", [
    ("a transformer for mnist", "'transformer' is no architecture metanet writes"),
    ("resnet-50 on mnist", "'resnet-50' is no architecture"),
    ("an lstm for mnist1d", "'lstm' is no architecture"),
    ("an mlp with elu activations", "activation 'elu' is not supported; valid: relu, tanh"),
    ("a cnn with an mlp head", "two different families"),
    ("a 2-layer mlp with 3 hidden layers", "two different depths: '2-layer' and '3 hidden layers'"),
    ("an mlp with 1000 hidden layers", "at most 100"),
])
def test_arch_words_refused(text, said):
    from metanet.tasks.arch_text import arch_words

    with pytest.raises(ArchError) as e:
        arch_words(text)
    assert said in str(e.value)


@pytest.mark.parametrize("text, shape, arch", [
    ("a 2-layer MLP with 128 units", (1, 28, 28), "mlp:784-128-10:relu"),
    ("a 3-layer tanh mlp", (1, 8, 8), "mlp:64-64-64-10:tanh"),
    ("hidden layers of 64 and 32", (1, 40), "mlp:40-64-32-10:relu"),
    ("a CNN", (1, 28, 28), "cnn:1-32-32-10:relu:k3:s2"),
    ("a 2-layer cnn with 16 channels, stride 1", (1, 8, 8), "cnn:1-16-10:relu:k3:s1"),
    ("logistic regression", (1, 8, 8), "mlp:64-10:relu"),
])
def test_arch_from_words(text, shape, arch):
    from metanet.tasks.arch_text import arch_from_words, arch_words

    assert str(arch_from_words(arch_words(text), shape, 10)) == arch


@pytest.mark.parametrize("text, said", [
    ("3 hidden layers of 64 and 32", "3 hidden layers but 2 widths"),
    ("a 1-layer mlp with 128 units", "no hidden layer"),
    ("a 1-layer cnn", "at least one conv layer"),
    ("an mlp with 5x5 kernels", "cnn only"),
])
def test_arch_from_words_refused(text, said):
    from metanet.tasks.arch_text import arch_from_words, arch_words

    with pytest.raises(ArchError, match=said):
        arch_from_words(arch_words(text), (1, 28, 28), 10)


def test_attention_as_an_ordinary_word_is_no_architecture():
    from metanet.tasks.arch_text import arch_words

    # "paying attention to 3 vs 8" was refused as an attention network
    assert arch_words("mnist, paying attention to 3 vs 8") is None
    with pytest.raises(ArchError, match="no architecture metanet writes"):
        arch_words("an attention model for mnist")
