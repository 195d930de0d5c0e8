"""A reward whose score raises with a broken candidate among the K is called again on the working ones only, which
needs every entry of ``params`` stacked per candidate ``(K, ...)``: given one that is not (a 0-d tensor, a table of
another length), the score's own error is raised, not a raw IndexError from splitting it or a score of rows that are
no candidates."""

from __future__ import annotations

import math

import pytest
import torch

from metanet.loop import Reward
from metanet.verify import Report


class _NeedsFinite(Reward):
    """Raises when any weight is NaN; else scores minus the mean of a per-candidate ``scale`` entry."""

    def score(self, reports, params):
        if torch.isnan(params["l.weight"]).any():
            raise ValueError("NaN weights")
        return -params["scale"].double().reshape(len(reports), -1).mean(1)


def _reports() -> list[Report]:
    broken = Report(0.0, math.inf, [], 10, 0.0, extra={"failed": "non-finite weights"})
    return [broken, Report(0.5, 0.3, [], 10, 0.0), Report(0.5, 0.4, [], 10, 0.0)]


def _weights() -> torch.Tensor:
    w = torch.randn(3, 4, 5, generator=torch.Generator().manual_seed(0))  # the same weights every run
    w[0, 0, 0] = math.nan
    return w


@pytest.mark.parametrize("scale", [torch.tensor(2.0), torch.ones(5, 2)], ids=["0-d", "other-length"])
def test_params_not_stacked_per_candidate_raise_the_scores_own_error(scale):
    with pytest.raises(ValueError, match="NaN weights"):  # was IndexError (0-d) or a score of rows 1, 2 of a table
        _NeedsFinite()(_reports(), {"l.weight": _weights(), "scale": scale})


def test_stacked_params_are_still_rescored_without_the_broken_candidate():
    r = _NeedsFinite()(_reports(), {"l.weight": _weights(), "scale": torch.tensor([[9.0], [1.0], [2.0]])})
    assert r.tolist()[1:] == [-1.0, -2.0] and r[0] < -1.0
