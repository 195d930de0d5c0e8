"""Free text: the architecture words' bounds hold at their edges, and the checks they guard still refuse.

Each case pins one boundary or check of :mod:`metanet.tasks.arch_text` that a mutation audit found no test pinned."""

from __future__ import annotations

import pytest

from metanet.errors import ArchError
from metanet.tasks.arch_text import MAX_HIDDEN, arch_from_words, arch_words


def test_exactly_max_hidden_layers_are_read_and_one_more_is_refused() -> None:
    assert arch_words(f"a {MAX_HIDDEN + 1}-layer mlp") == {"family": "mlp", "hidden_layers": MAX_HIDDEN}
    with pytest.raises(ArchError, match=f"asks for {MAX_HIDDEN + 1} hidden layers; at most {MAX_HIDDEN} are read"):
        arch_words(f"a {MAX_HIDDEN + 2}-layer mlp")


@pytest.mark.parametrize("text", ["an mlp 9x64", "9x64 hidden"])
def test_nine_x_a_width_is_nine_hidden_layers(text: str) -> None:
    assert arch_words(text) | {"family": "mlp"} == {"family": "mlp", "hidden_layers": 9, "widths": (64,)}


@pytest.mark.parametrize("text", ["an mlp 10x64", "10x64 hidden"])
def test_ten_x_a_width_may_be_two_widths_and_is_refused(text: str) -> None:
    with pytest.raises(ArchError, match="'10x64' may be 10 hidden layers of 64 units or hidden layers of 10 and 64 "
                                        "units; say which"):
        arch_words(text)


def test_a_one_layer_mlp_has_no_hidden_layer_and_a_zero_layer_one_is_refused() -> None:
    assert arch_words("a 1-layer mlp") == {"family": "mlp", "hidden_layers": 0}
    for text in ("a 0-layer mlp", "a zero-layer mlp"):
        with pytest.raises(ArchError, match="-layer' has no layer; a network has at least its output layer"):
            arch_words(text)


def test_a_number_of_ten_digits_is_read_and_one_of_eleven_is_too_large() -> None:
    with pytest.raises(ArchError, match="'1234567890-layer' asks for 1234567889 hidden layers; at most"):
        arch_words("a 1234567890-layer mlp")
    with pytest.raises(ArchError, match=r"the architecture number 12345678901\.\.\. is too large"):
        arch_words("a 12345678901-layer mlp")


def test_a_dash_between_equal_numbers_is_no_range() -> None:
    assert arch_words("mnist, 2 - 2 layers") == {"hidden_layers": 1}


@pytest.mark.parametrize("text, said", [("a cnn with 3x5 kernels", "3x5 kernels"), ("a cnn, kernel 5x3", "kernel 5x3")])
def test_a_kernel_of_two_sizes_is_refused(text: str, said: str) -> None:
    with pytest.raises(ArchError, match=f"'{said}': metanet's convolutions have square kernels; give one size"):
        arch_words(text)
    assert arch_words("a cnn, kernel 5x5") == {"family": "cnn", "kernel": 5}


def test_two_dashes_down_from_an_equal_number_are_two_depths() -> None:
    with pytest.raises(ArchError, match="'2 - 1 layers' names two depths joined by a dash; metanet writes one network"):
        arch_words("mnist 2 - 2 - 1 layers")


@pytest.mark.parametrize("text", ["a 1-layer cnn", "a cnn with no hidden layer", "0 conv layers"])
def test_a_cnn_of_no_conv_layer_is_refused(text: str) -> None:
    with pytest.raises(ArchError, match="a cnn needs at least one conv layer .*: ask for '1 conv layer' or a '2-layer"):
        arch_from_words(arch_words(text), (1, 28, 28), 10)
    assert str(arch_from_words(arch_words("1 conv layer"), (1, 28, 28), 10)) == "cnn:1-32-10:relu:k3:s2"


def test_a_digit_dashed_to_a_width_is_a_width_only_without_spaces() -> None:
    assert arch_words("mnist 8-16 channels") == {"widths": (8, 16), "family": "cnn"}
    assert arch_words("mnist 8 - 16 channels") == {"widths": (16,), "family": "cnn"}  # two phrases: the 8 is no width
