"""``metanet train fit --seed_everything=N``: a seed numpy refuses, one past its largest (2**32) as well as one
below 0, is one error line naming the valid range; Lightning's seed_everything raised a ValueError traceback.
In-process: the CLI's seed check on a parsed config, no run."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from metanet.errors import ConfigError
from metanet.train import _cli_class


@pytest.mark.parametrize("seed", [2**32, 2**40, -1])
def test_a_seed_outside_numpys_range_is_one_error_line(seed: int) -> None:
    cli = SimpleNamespace(config={"seed_everything": seed}, _get=lambda config, key: config[key])
    with pytest.raises(ConfigError, match=rf"^--seed_everything={seed}: a seed is a whole number from 0 to "
                                          r"4294967295, or true \(a random one\) or false \(none\)$"):
        _cli_class()._set_seed(cli)
