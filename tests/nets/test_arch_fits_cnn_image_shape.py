"""`Arch.fits` of a CNN: one example must be one (C, H, W) image of its input channels. A first dimension that
matches alone (mnist1d's (1, 40) signals, a flat (1,) vector, a (1, 8, 8, 1) array) is no input of a Conv2d: the
writer and verify check `fits` first, so the user gets an ArchError naming the shape, not torch's convolution error."""

from __future__ import annotations

import pytest
import torch

from metanet.errors import ArchError
from metanet.nets import Arch
from metanet.writer import Writer


@pytest.mark.parametrize("shape", [(1, 40), (1,), (1, 8, 8, 1)])
def test_a_cnn_does_not_fit_an_example_that_is_not_one_image(shape):
    arch = Arch.parse("cnn:1-4-2:relu")
    assert not arch.fits(shape)
    x, y = torch.rand(6, *shape), torch.tensor([0, 1] * 3)
    torch.manual_seed(0)
    with pytest.raises(ArchError, match=r"does not fit support inputs of shape"):
        Writer(hidden=8, message=4).write(arch, x, y, 2)


def test_a_cnn_fits_images_of_its_channels_of_any_size():
    arch = Arch.parse("cnn:3-4-2:relu")
    assert arch.fits((3, 8, 8)) and arch.fits((3, 28, 20)) and not arch.fits((1, 8, 8))
