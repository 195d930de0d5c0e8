"""refine's step bound is MAX_ITERATIONS itself: one step more is refused before any work, for every method."""

from __future__ import annotations

import pytest
import torch

from metanet.errors import MAX_ITERATIONS, ConfigError
from metanet.loop import refine


@pytest.mark.parametrize("method", ["perturbation", "activity", "sgd"])
def test_one_step_past_max_iterations_is_refused(method) -> None:
    x, y = torch.randn(8, 4), torch.arange(8) % 2
    with pytest.raises(ConfigError, match=f"steps.*<= {MAX_ITERATIONS:,}"):
        refine(torch.nn.Linear(4, 2), (x, y), method=method, steps=MAX_ITERATIONS + 1, verify_on=None)
