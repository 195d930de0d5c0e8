"""Float support inputs on a 0..255 scale given to the writer directly (``Writer.write``, ``Writer.forward``) warn as
``tasks.as_examples`` does: the writer wrote weights for them silently, made for [0, 1] inputs."""

from __future__ import annotations

import warnings

import pytest
import torch

from metanet.graph import to_graph
from metanet.nets import build

ARCH = "mlp:64-16-2:relu"


@pytest.fixture(scope="module")
def support(digits):
    x, y = digits.split("train")
    keep = y < 2
    return x[keep], y[keep]


def test_write_warns_on_float_support_inputs_of_0_255(untrained, support):
    x, y = support
    with pytest.warns(UserWarning, match=r"support inputs: float inputs span \[0, 255\].*\[0, 1\]") as record:
        untrained.write(ARCH, x * 255, y)
    assert record[0].filename == __file__  # attributed to the caller, not to metanet


def test_forward_warns_on_float_support_inputs_of_0_255(untrained, support):
    x, y = support
    with pytest.warns(UserWarning, match=r"support inputs: float inputs span \[0, 255\]"):
        untrained(to_graph(build(ARCH, seed=0)), x * 255, y)


@pytest.mark.parametrize("scale", [
    lambda x: x,  # a task's own inputs
    lambda x: (x * 255).round().to(torch.uint8),  # uint8 images: divided by 255, as tasks read them
    lambda x: (x - x.mean()) / x.std(),  # standardised: negative values, not 0..255 images
    lambda x: x * 1.5,  # past 1 a little (mnist1d's test signals do)
])
def test_inputs_on_the_unit_scale_do_not_warn(untrained, support, scale):
    x, y = support
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        out = untrained.write(ARCH, scale(x), y)
    assert set(out) == set(build(ARCH).state_dict())

