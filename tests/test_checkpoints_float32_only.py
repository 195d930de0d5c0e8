"""A Reader or Writer in another dtype, or on the meta device, is a ConfigError naming the parameter and the fix
(``.float()``, ``.load(path)``), not a dtype or device mismatch deep inside torch once it is used."""

from __future__ import annotations

import pytest
import torch

from metanet.checkpoints import check_float32
from metanet.errors import ConfigError
from metanet.reader import Reader
from metanet.writer import Writer


@pytest.mark.parametrize("kind", [Reader, Writer])
@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16])
def test_another_dtype_is_a_config_error_naming_the_fix(kind, dtype):
    net = kind().to(dtype)
    with pytest.raises(ConfigError, match=rf"a {kind.__name__} computes in float32, but its parameter \S+ is "
                                          rf"{dtype}; pass {kind.__name__.lower()}\.float\(\)"):
        check_float32(net)
    check_float32(net.float())  # the fix it names


def test_the_meta_device_is_a_config_error_naming_load():
    net = Writer().to("meta")
    with pytest.raises(ConfigError, match=r"on the 'meta' device \(no values\); load one with Writer\.load\(path\)"):
        check_float32(net)
