"""Arch's messages quote what they refuse, capped: 10,000 widths, a 10**400 width or a 100,000-character string
made messages of tens of kilobytes, and a number past Python's 4,300-digit str() limit was a raw ValueError."""

import pytest

from metanet.errors import ArchError
from metanet.nets import Arch

_MAX = 2**31 - 1


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Arch("mlp", (784, 10**400, 10)),
         f"widths (784, <401-digit number>, 10) are too large: each must be at most {_MAX}"),
        (lambda: Arch("mlp", (784, 10**5000, 10)),  # str(10**5000) raises ValueError
         f"widths (784, <5001-digit number>, 10) are too large: each must be at most {_MAX}"),
        (lambda: Arch("mlp", tuple(range(1, 10_001)) + (2**40,)),
         f"widths (1, 2, 3, 4, 5, 6, 7, 8, ... 10001 in all) are too large: each must be at most {_MAX}"),
        (lambda: Arch("mlp", [1.5, 10**5000]), "widths must be a sequence of whole numbers, got [1.5, <5001-digit number>]"),
        (lambda: Arch("mlp", (784, -(10**25))),
         "widths (784, -<26-digit number>) must hold at least an input and an output size, all >= 1"),
        (lambda: Arch("cnn", (1, 8, 10), kernel=10**5000),
         f"kernel (<5001-digit number>) or stride (2) is too large: at most {_MAX}"),
        (lambda: Arch("mlp", (784,)), "widths (784,) must hold at least an input and an output size, all >= 1"),
    ],
)
def test_widths_in_messages_are_capped_and_keep_their_meaning(make, message):
    with pytest.raises(ArchError) as e:
        make()
    assert str(e.value) == message


def test_too_large_tensor_message_caps_the_architecture_string():
    with pytest.raises(ArchError, match=r"^mlp:2147483647-2147483647-.*\.\.\. \(110008 characters\) is too large: "
                       r"a weight tensor would hold \d+ values") as e:
        Arch("mlp", [_MAX] * 10_000)
    assert len(str(e.value)) < 300


@pytest.mark.parametrize(
    "text, start",
    [
        ("mlp:784-" + "9" * 5000 + "-10:relu", "widths '784-999"),  # int() of 5000 digits raises ValueError
        ("cnn:1-8-10:relu:k" + "9" * 5000, "kernel '999"),
        ("mlp:784-10:" + "x" * 100_000, "unknown option 'xxx"),
        ("mlp:" + "-".join(["64"] * 10_000) + "-x:relu", "malformed widths '64-64"),
    ],
)
def test_parse_messages_cap_the_text_they_quote(text, start):
    with pytest.raises(ArchError) as e:
        Arch.parse(text)
    assert str(e.value).startswith(start) and len(str(e.value)) < 600
    assert f"... ({len(text)} characters)" in str(e.value)  # the whole text, named by its length
