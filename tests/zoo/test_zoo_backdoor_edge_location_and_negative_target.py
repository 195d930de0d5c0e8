"""Backdoor triggers at their bounds: a patch may sit flush with the image's bottom-right corner (row and col up to
``H - size`` and ``W - size``), and a target class below 0 is refused (``-1`` would index the last class)."""

from __future__ import annotations

import pytest
import torch

from metanet.errors import ConfigError
from metanet.zoo.backdoor import backdoor_target, poisoned_test_set, trigger_tensors

_TRIGGER = {"kind": "square", "size": 3, "location": [5, 5], "pattern": [[1] * 3] * 3, "target": 1,
            "poison_rate": 0.1}


def test_a_trigger_flush_with_the_bottom_right_corner_fits():
    values, mask = trigger_tensors(_TRIGGER, (1, 8, 8))  # rows and cols 5..7 of an 8x8 image
    assert int(mask.sum()) == 9 and bool(mask[0, 5:, 5:].all()) and bool((values[0, 5:, 5:] == 1).all())
    with pytest.raises(ConfigError, match=r"row in 0\.\.5 and col in 0\.\.5"):
        trigger_tensors({**_TRIGGER, "location": [6, 5]}, (1, 8, 8))


def test_a_negative_target_is_refused():
    assert backdoor_target({"target": 0}) == 0
    with pytest.raises(ConfigError, match="target -1 is not a class index"):
        backdoor_target({"target": -1})
    with pytest.raises(ConfigError, match="target -1"):
        poisoned_test_set(torch.rand(3, 1, 8, 8), torch.tensor([0, 1, 2]), {**_TRIGGER, "target": -1})
