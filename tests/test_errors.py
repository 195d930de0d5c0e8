"""metanet.errors: the shared option checks and the one reading of a user-given index."""

import re

import numpy as np
import pytest
import torch

from metanet.errors import ConfigError, check_number, check_whole, whole_number


@pytest.mark.parametrize("v", [3, np.int64(3), np.array(3), torch.tensor(3), 3.0, np.float32(3.0), torch.tensor(3.0),
                               "3", " 3 "])
def test_whole_number_reads_every_spelling_of_an_integer(v):
    assert whole_number(v) == 3 and type(whole_number(v)) is int


@pytest.mark.parametrize("v", [2.7, torch.tensor(2.5), "3.0", "three", "", True, False, np.bool_(True),
                               torch.tensor(True), float("inf"), float("nan"), torch.tensor([1, 2]), [1], None, b"3"])
def test_whole_number_refuses_what_is_not_one(v):
    # int() would read 2.7 as 2 and True as 1
    assert whole_number(v) is None


def test_the_index_readers_share_one_rule():
    """The zoo's network ids, a layer in inspect, a neuron in edit and a trigger's position read the same inputs."""
    from metanet.edit.trigger import _whole
    from metanet.inspect.netview import _as_int
    from metanet.nets.arch import _whole as arch_whole

    for v in (4, np.int32(4), torch.tensor(4), 4.0, "4"):
        assert _whole(v) == _as_int(v) == 4 and arch_whole(v)
    for v in (4.5, True, "x", torch.tensor([4, 4])):
        with pytest.raises(ValueError, match=f"^{re.escape(str(v))}$"):  # the value itself: callers add the context
            _whole(v)
        with pytest.raises(ValueError, match=f"^{re.escape(repr(v))} is not a whole number$"):
            _as_int(v)
        assert not arch_whole(v)
    assert not arch_whole(0) and not arch_whole(-2)


def test_check_whole_and_check_number_name_the_option():
    check_whole("batch_size", 4, 1)
    for bad in (0, 2.0, True, "4"):
        with pytest.raises(ConfigError, match=r"batch_size must be a whole number >= 1, got"):
            check_whole("batch_size", bad, 1)
    check_number("lr", 0.1, "> 0", lambda v: v > 0)
    for bad in (0.0, float("nan"), float("inf"), True, "0.1"):
        with pytest.raises(ConfigError, match=r"need lr > 0 \(a finite number\), got"):
            check_number("lr", bad, "> 0", lambda v: v > 0)
    with pytest.raises(ConfigError, match=r"\(a finite integer\)"):
        check_number("steps", 2.5, ">= 1", lambda v: v >= 1, integer=True)


def test_check_number_refuses_an_int_beyond_float_range_with_its_own_error():
    # math.isfinite(10**400) raised a raw OverflowError instead of the option's ConfigError
    for integer in (False, True):
        with pytest.raises(ConfigError, match=r"need sigma > 0 \(a finite"):
            check_number("sigma", 10**400, "> 0", lambda v: v > 0, integer=integer)
    check_number("seed", 10**30, "(any integer)", lambda v: True, integer=True)  # large, but a float holds it
