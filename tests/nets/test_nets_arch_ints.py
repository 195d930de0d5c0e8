"""An Arch's kernel and stride take the integers its widths take: numpy and one-element torch integers."""

import numpy as np
import pytest
import torch

from metanet.errors import ArchError
from metanet.nets import Arch


@pytest.mark.parametrize("v", [np.int64(3), np.int32(3), np.array(3), torch.tensor(3), torch.tensor([3])])
def test_kernel_and_stride_take_numpy_and_torch_integers(v):
    arch = Arch.from_dict({"family": "cnn", "widths": [1, 8, 10], "kernel": v, "stride": v})
    assert (arch.kernel, arch.stride) == (3, 3)
    assert type(arch.kernel) is int and type(arch.stride) is int  # stored as Python ints: str() and JSON stay clean
    assert str(arch) == "cnn:1-8-10:relu:k3:s3"
    assert Arch.parse(str(arch)) == arch


@pytest.mark.parametrize("v", [True, np.bool_(True), torch.tensor(True), 3.0, torch.tensor(3.0), "3",
                               torch.tensor([3, 3]), None])
def test_kernel_and_stride_refuse_non_integers(v):
    for name in ("kernel", "stride"):
        with pytest.raises(ArchError, match=f"{name} must be a whole number >= 1"):
            Arch.from_dict({"family": "cnn", "widths": [1, 8, 10], name: v})


def test_torch_kernel_below_one_is_refused():
    with pytest.raises(ArchError, match="must be >= 1"):
        Arch("cnn", (1, 8, 10), kernel=torch.tensor(0))
