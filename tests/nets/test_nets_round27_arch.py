"""Round 27: architecture strings: options that do not apply, and spec layers checked when a layout is made."""

from __future__ import annotations

import pytest

from metanet.errors import ArchError
from metanet.nets import Arch


@pytest.mark.parametrize("text", ["mlp:784-64-10:relu:k3", "mlp:784-64-10:relu:s2", "mlp:784-10:k3:s2:nobias"])
def test_kernel_or_stride_on_an_mlp_is_refused_even_at_the_default(text):
    # k5 was refused but k3 / s2 (the dataclass defaults) were silently dropped: str() no longer shows them
    with pytest.raises(ArchError, match="cnn family only.*'kK' / 'sS'"):
        Arch.parse(text)
    assert str(Arch.parse("cnn:1-4-10:relu:k3:s2")) == "cnn:1-4-10:relu:k3:s2"


def test_pair_of_sizes_error_names_a_list_not_a_number():
    from metanet.nets import from_spec

    conv = {"type": "conv2d", "in": 1, "out": 2, "kernel": [3, 3], "stride": [1, 1], "padding": [1, 1], "bias": True}
    spec = {"family": "sequential", "layers": [conv, {"type": "maxpool2d", "kernel": [0, 0], "stride": [1, 1],
                                                       "padding": [0, 0], "dilation": [1, 1], "ceil_mode": False}]}
    with pytest.raises(ArchError, match=r"'kernel' must be a list of two whole numbers >= 1, got \[0, 0\]"):
        from_spec(spec)
