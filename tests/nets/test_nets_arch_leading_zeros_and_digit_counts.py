"""Arch.parse of widths, kernel and stride written with thousands of leading zeros, and the digit counts Arch's
messages give for huge numbers. The parser's over-20-digit check strips the leading zeros, but int() counted them
against its 4,300-digit limit, so '0' * 5000 + '1' was a raw ValueError. The digit count came from a float log10
and was one short at 10**512, 10**1024 and 10**2048."""

import re
import sys

import pytest

from metanet.errors import ArchError
from metanet.nets import Arch

_MAX = 2**31 - 1
_ZEROS = "0" * 5000  # past int()'s 4,300-digit limit


@pytest.mark.parametrize(
    "text, arch",
    [
        (f"mlp:{_ZEROS}784-{_ZEROS}64-10:relu", Arch("mlp", (784, 64, 10))),
        (f"cnn:1-8-10:relu:k{_ZEROS}5:s{_ZEROS}1", Arch("cnn", (1, 8, 10), kernel=5, stride=1)),
    ],
)
def test_leading_zeros_parse_to_the_number_they_write(text, arch):
    assert Arch.parse(text) == arch


@pytest.mark.parametrize(
    "text, message",
    [
        (f"mlp:{_ZEROS}-10:relu", r"^widths \(0, 10\) must hold at least an input and an output size, all >= 1$"),
        (f"cnn:1-8-10:relu:s{_ZEROS}", r"^kernel \(3\) and stride \(0\) must be >= 1$"),
    ],
)
def test_all_zero_numbers_are_refused_as_zero(text, message):
    with pytest.raises(ArchError, match=message):
        Arch.parse(text)


@pytest.mark.parametrize("digits", [21, 513, 1025, 2049, 5001])
@pytest.mark.parametrize("offset", [0, 1])
def test_a_huge_width_is_named_by_its_exact_digit_count(digits, offset):
    value = 10 ** (digits - 1) + offset  # the smallest numbers of that many digits: where the float log10 rounds
    with pytest.raises(ArchError) as e:
        Arch("mlp", (784, value, 10))
    assert str(e.value) == f"widths (784, <{digits}-digit number>, 10) are too large: each must be at most {_MAX}"


def test_digit_counts_agree_with_str_around_every_power_of_ten():
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        for k in range(20, 2100):
            for value in (10**k, 10 ** (k + 1) - 1):  # the smallest and largest of k + 1 digits
                with pytest.raises(ArchError) as e:
                    Arch("mlp", (value, 10))
                assert re.search(r"<(\d+)-digit number>", str(e.value))[1] == str(len(str(value)))
    finally:
        sys.set_int_max_str_digits(old)
