"""A network word said not to be wanted asks for nothing: "mnist 3 vs 8, no cnn" wrote a CNN, "an mlp, not a
transformer" and "without an lstm" were refused as families metanet does not write, "a cnn rather than an mlp" as two
families, and "tanh, not relu" as two activations. What is refused is still checked against arch= and the other
words ("a cnn, not a cnn" is a contradiction)."""

from __future__ import annotations

import pytest

from metanet.errors import ArchError
from metanet.nets import Arch
from metanet.tasks.arch_text import arch_from_words, arch_words, check_arch_words

MNIST = (1, 28, 28)


@pytest.mark.parametrize("text, arch", [
    ("mnist 3 vs 8, no cnn", "mlp:784-64-10:relu"),
    ("an mlp, not a transformer, for mnist 3 vs 8", "mlp:784-64-10:relu"),
    ("a cnn rather than an mlp for mnist 3 vs 8", "cnn:1-32-32-10:relu:k3:s2"),
    ("a cnn instead of an mlp", "cnn:1-32-32-10:relu:k3:s2"),
    ("not a cnn: mnist 3 vs 8", "mlp:784-64-10:relu"),
    ("i don't want a cnn for mnist", "mlp:784-64-10:relu"),
    ("mnist, a cnn isn't needed", "mlp:784-64-10:relu"),
    ("a cnn? no, an mlp", "mlp:784-64-10:relu"),
    ("any network but a cnn for mnist", "mlp:784-64-10:relu"),
    ("no cnn or lstm for mnist", "mlp:784-64-10:relu"),  # "or" carries the negation
    ("mnist 3 vs 8, no conv layers", "mlp:784-64-10:relu"),
    ("not a 3-layer cnn but a 2-layer mlp", "mlp:784-64-10:relu"),  # the negated network's size goes with it
    ("mnist, not an mlp", "cnn:1-32-32-10:relu:k3:s2"),  # the other family metanet writes
    ("an mlp with tanh, not relu", "mlp:784-64-10:tanh"),
    ("an mlp, gelu instead of relu", "mlp:784-64-10:gelu"),
    ("an mlp, not elu but tanh", "mlp:784-64-10:tanh"),
    ("a 2-layer mlp without skip connections", "mlp:784-64-10:relu"),
])
def test_a_negated_network_word_asks_for_nothing(text: str, arch: str) -> None:
    assert str(arch_from_words(arch_words(text), MNIST, 10)) == arch


@pytest.mark.parametrize("text, words", [("mnist 3 vs 8 without an lstm", None),
                                         ("an mlp, not a transformer", {"family": "mlp"})])
def test_a_negated_family_metanet_does_not_write_is_no_error(text: str, words: dict | None) -> None:
    assert arch_words(text) == words  # raised "is no architecture metanet writes"; the mlp asked for stays


@pytest.mark.parametrize("text, said", [
    ("a cnn, not a cnn, for mnist", r"asks for 'cnn' and refuses it \('not a cnn'\)"),
    ("a relu mlp, no relu", r"asks for 'relu' and refuses it"),
    ("a residual mlp without skip connections", r"asks for 'residual' and refuses it"),
    ("neither a cnn nor an mlp for mnist", r"refuses both families metanet writes .*mlp .*and cnn"),
])
def test_a_part_asked_for_and_refused_is_an_error(text: str, said: str) -> None:
    with pytest.raises(ArchError, match=said):
        arch_words(text)


@pytest.mark.parametrize("text, arch", [
    ("no network other than a cnn for mnist", "cnn:1-32-32-10:relu:k3:s2"),  # "no ... other than": the one asked
    ("an mlp, no activation other than tanh", "mlp:784-64-10:tanh"),
    ("nothing but tanh in an mlp", "mlp:784-64-10:tanh"),
])
def test_no_word_other_than_one_asks_for_that_one(text: str, arch: str) -> None:
    assert str(arch_from_words(arch_words(text), MNIST, 10)) == arch


def test_an_unnegated_second_activation_is_still_two() -> None:
    with pytest.raises(ArchError, match="two different activations: 'tanh' and 'sigmoid'"):
        arch_words("an mlp with tanh, not relu, sigmoid")


def test_refusing_the_default_activation_asks_for_one() -> None:
    with pytest.raises(ArchError, match="refuses relu, the activation used when none is named; name one: tanh"):
        arch_from_words(arch_words("an mlp for mnist, no relu"), MNIST, 10)


@pytest.mark.parametrize("text, arch", [
    ("mnist 3 vs 8, no cnn", "cnn:1-8-10:relu:k3:s2"),
    ("mnist, not an mlp", "mlp:784-64-10:relu"),
    ("mnist, tanh not relu", "mlp:784-64-10:relu"),
    ("mnist, no relu", "mlp:784-64-10:relu"),
    ("mnist, no skip connections", "mlp:784-64-10:relu:skip"),
])
def test_what_the_text_refuses_is_checked_against_arch(text: str, arch: str) -> None:
    with pytest.raises(ArchError, match="the text asks for .*no .*but arch is"):
        check_arch_words(arch_words(text), Arch.parse(arch))


def test_an_arch_the_text_does_not_refuse_passes() -> None:
    check_arch_words(arch_words("mnist 3 vs 8, no cnn, tanh not relu"), Arch.parse("mlp:784-64-10:tanh"))
