"""Widths written as arrows, lists in brackets, "layers: 128, 64", "a 32-16 MLP" or repeats ("3x64", "64 units x 2
layers") are read as the network a user means, and their numbers are no classes of the task: they were classes
("range '32-16' goes past 9", "'> 128' goes past 9"), a bad task name (the brackets), or dropped (the default MLP)."""

from __future__ import annotations

import pytest

from metanet import tasks
from metanet.errors import ArchError
from metanet.tasks.arch_text import arch_from_words, arch_words, check_arch_words
from metanet.nets import Arch

MNIST, DIGITS, MNIST1D = (1, 28, 28), (1, 8, 8), (40,)


@pytest.mark.parametrize("text, shape, arch", [
    ("784 -> 128 -> 10 for mnist", MNIST, "mlp:784-128-10:relu"),
    ("an mlp 784 → 256 → 128 → 10", MNIST, "mlp:784-256-128-10:relu"),
    ("hidden_sizes=[128, 64] on mnist", MNIST, "mlp:784-128-64-10:relu"),
    ("hidden_layer_sizes=(128, 64) for sklearn digits", DIGITS, "mlp:64-128-64-10:relu"),
    ("hidden: 128-64 for mnist", MNIST, "mlp:784-128-64-10:relu"),
    ("hidden layers 128 -> 64", MNIST, "mlp:784-128-64-10:relu"),
    ("an mlp with hidden units 64 and 32", MNIST, "mlp:784-64-32-10:relu"),
    ("a 3 layer MLP with 64, 32 hidden units", MNIST, "mlp:784-64-32-10:relu"),
    ("an mlp with 128 then 64 units", MNIST, "mlp:784-128-64-10:relu"),
    ("a cnn with channels [16, 32]", MNIST, "cnn:1-16-32-10:relu:k3:s2"),
    ("a CNN with 16 output channels", MNIST, "cnn:1-16-16-10:relu:k3:s2"),
    ("a width-64 depth-3 mlp", MNIST, "mlp:784-64-64-10:relu"),
    # widths that may hold the input size and the class count: all the widths when both fit, else the hidden ones
    ("a 32-16 MLP for digits", MNIST, "mlp:784-32-16-10:relu"),
    ("an MLP [256, 128] for fashion-mnist", MNIST, "mlp:784-256-128-10:relu"),
    ("an MLP [784, 128, 10] for mnist", MNIST, "mlp:784-128-10:relu"),
    ("layers: 128, 64", MNIST, "mlp:784-128-64-10:relu"),
    ("layers: 40, 32, 10 for mnist1d", MNIST1D, "mlp:40-32-10:relu"),
    ("a 3-layer mlp (64-32)", MNIST, "mlp:784-64-32-10:relu"),
    ("a [32, 32] mlp for mnist1d", MNIST1D, "mlp:40-32-32-10:relu"),
    ("a 16-32 CNN", MNIST, "cnn:1-16-32-10:relu:k3:s2"),
    ("a 784-10 mlp", MNIST, "mlp:784-10:relu"),
    # repeats: that many hidden layers of that width
    ("an MLP 3x64 for mnist", MNIST, "mlp:784-64-64-64-10:relu"),
    ("3x64 hidden layers", MNIST, "mlp:784-64-64-64-10:relu"),
    ("an mlp with 2x128 hidden units", MNIST, "mlp:784-128-128-10:relu"),
    ("64 units x 2 layers", MNIST, "mlp:784-64-64-10:relu"),
    ("2 hidden layers x 32 units for mnist1d", MNIST1D, "mlp:40-32-32-10:relu"),
    # input channels are no width
    ("a 1-channel CNN for mnist", MNIST, "cnn:1-32-32-10:relu:k3:s2"),
    ("a 3-channel CNN", MNIST, "cnn:1-32-32-10:relu:k3:s2"),
])
def test_width_notations_are_read(text: str, shape: tuple[int, ...], arch: str) -> None:
    assert str(arch_from_words(arch_words(text), shape, 10)) == arch


@pytest.mark.parametrize("text, spec", [
    ("784 -> 128 -> 10 for mnist", "mnist"),
    ("hidden_sizes=[128, 64] on mnist 3 vs 8", "mnist[3,8]"),
    ("an MLP [256, 128] for fashion-mnist", "fashion-mnist"),
    ("a 32-16 MLP for digits", "mnist"),
    ("layers: 128, 64 for mnist", "mnist"),
    ("hidden layers 128 -> 64 for mnist", "mnist"),
    ("a 3-layer mlp (64-32) for mnist", "mnist"),
    ("an MLP 10x64 for mnist", "mnist"),  # no image size 10x64
    ("a 3 layer MLP with 64, 32 hidden units for mnist 3 vs 8", "mnist[3,8]"),
    ("a cnn with channels [16, 32] for mnist", "mnist"),
    ("a width-64 mlp for mnist", "mnist"),
])
def test_width_numbers_and_brackets_are_no_task(text: str, spec: str) -> None:
    assert tasks.text_to_spec(text) == spec


@pytest.mark.parametrize("text, said", [
    # one end fits the task: the input or the classes may be left out, or a hidden layer as wide: ask
    ("an MLP [784, 256, 128]", "start as the task does (784 inputs, 10 classes) but do not end so: write every "
                               "width, e.g. 784-256-128-10, or the hidden widths alone, e.g. 'hidden sizes 256, 128'"),
    ("an MLP [128, 10]", "end as the task does (784 inputs, 10 classes) but do not start so: write every width, e.g. "
                         "784-128-10, or the hidden widths alone, e.g. 'hidden size 128'"),
    ("a 2-layer mlp [128, 64]", "1 hidden layer but 2 widths"),
])
def test_widths_that_fit_the_task_at_one_end_are_refused(text: str, said: str) -> None:
    with pytest.raises(ArchError, match=said.replace("(", r"\(").replace(")", r"\)")):
        arch_from_words(arch_words(text), MNIST, 10)


@pytest.mark.parametrize("text", ["a network (3, 8) for mnist", "digits 3-8 mlp", "an mlp 28x28 images"])
def test_no_widths_where_none_are_said(text: str) -> None:
    words = arch_words(text) or {}
    assert not {"sizes", "widths", "hidden_layers"} & set(words)


def test_widths_list_given_and_arch_agree_either_way() -> None:
    words = arch_words("an MLP [256, 128]")
    check_arch_words(words, Arch("mlp", (784, 256, 128, 10)))
    with pytest.raises(ArchError, match="widths 256-128, but arch is"):
        check_arch_words(words, Arch("mlp", (784, 64, 10)))
