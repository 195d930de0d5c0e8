"""`Arch` checks a mutation audit found unpinned: a bare 'k' / 's' option, kernel or stride on an mlp given as a
mapping, and the exact bound on a weight tensor's size (2**60 values; a CNN's last layer is a Linear, no kernel)."""

from __future__ import annotations

import pytest

from metanet.errors import ArchError
from metanet.nets import Arch


@pytest.mark.parametrize("opt", ["k", "s"])
def test_a_bare_kernel_or_stride_option_is_an_unknown_option(opt):
    # 'k' with no digits is no kernel of 0: it names the option and the valid ones, not "kernel (0) must be >= 1"
    with pytest.raises(ArchError) as info:
        Arch.parse(f"cnn:1-8-10:relu:{opt}")
    message = str(info.value)
    assert f"unknown option '{opt}' in architecture 'cnn:1-8-10:relu:{opt}'" in message
    assert "'kK' (kernel), 'sS' (stride)" in message
    assert "(0)" not in message


@pytest.mark.parametrize("key, value", [("kernel", 5), ("stride", 1), ("kernel", 1)])
def test_kernel_or_stride_on_an_mlp_mapping_is_refused(key, value):
    # str() of an mlp writes no kernel or stride: a non-default one would be lost on the round trip
    with pytest.raises(ArchError, match="kernel and stride apply to the cnn family only, not to 'mlp'"):
        Arch.from_dict({"family": "mlp", "widths": [4, 2], key: value})
    with pytest.raises(ArchError, match="cnn family only"):
        Arch("mlp", (4, 2), **{key: value})
    assert str(Arch.from_dict({"family": "mlp", "widths": [4, 2], "kernel": 3, "stride": 2})) == "mlp:4-2:relu"
    assert Arch.from_dict({"family": "cnn", "widths": [1, 4, 2], key: value}).to_dict()[key] == value


def test_a_weight_tensor_of_exactly_2_pow_60_values_is_allowed():
    # the bound is "at most 2**60": an mlp layer of 2**30 x 2**30 is on it (no network is built here)
    assert Arch("mlp", (2**30, 2**30, 10)).widths == (2**30, 2**30, 10)
    with pytest.raises(ArchError, match=r"would hold 1152921505680588800 values \(at most 1152921504606846976\)"):
        Arch("mlp", (2**30 + 1, 2**30, 10))


def test_a_cnn_classifier_counts_no_kernel():
    # a CNN's last layer is Linear(channels, classes): 2**30 x 2**30 values, not times kernel**2
    a = Arch("cnn", (1, 2**30, 2**30), kernel=3)
    assert a.num_layers == 2
    # its convolutions do count kernel**2: 2**30 * 2**28 * 9 > 2**60
    with pytest.raises(ArchError, match="too large"):
        Arch("cnn", (2**28, 2**30, 2), kernel=3)
