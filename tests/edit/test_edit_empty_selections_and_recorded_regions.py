"""Edits given an empty or unreadable selection refuse it by name (metanet/edit/edits.py: ``_regions``,
``parse_precision``), a clamp's ``{layer: [neurons]}`` selection takes ``value``, and prune records the regions it
was given (None for "all of them", so a replayed history prunes a network's own layers)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from metanet import edit, tasks
from metanet.edit.edits import parse_precision, sparsity
from metanet.errors import ArchError
from metanet.inspect import NetView

TASK = tasks.get("digits")


def _mlp() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 6), nn.ReLU(), nn.Linear(6, 10))


@pytest.mark.parametrize("regions", ["", " , ", []])
def test_no_regions_selected_is_refused(regions):
    # was (without the check): a raw ZeroDivisionError (a sparsity over no weights)
    with pytest.raises(ArchError, match=r"no regions selected; valid: weight layers 0\.\.1"):
        sparsity(_mlp(), regions)
    model = _mlp()
    before = [p.clone() for p in model.parameters()]
    with pytest.raises(ArchError, match="no regions selected"):
        edit.prune(model, 0.5, TASK, regions=regions, inplace=True)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))  # nothing changed


@pytest.mark.parametrize("plan", ["", " , ;", {}])
def test_an_empty_precision_plan_is_refused(plan):
    with pytest.raises(ArchError, match="empty precision plan; expected REGION=FORMAT"):
        parse_precision(plan, NetView(_mlp()))


@pytest.mark.parametrize("plan", [["0=int8"], 8, None])
def test_a_precision_plan_that_is_no_text_or_mapping_is_refused(plan):
    with pytest.raises(ArchError, match=r"cannot read a precision plan from .*; expected REGION=FORMAT"):
        parse_precision(plan, NetView(_mlp()))


def test_prune_records_the_regions_given_and_none_for_all():
    assert edit.prune(_mlp(), 0.5, TASK).report.params["regions"] is None
    assert edit.prune(_mlp(), 0.5, TASK, regions="1").report.params["regions"] == [1]


def test_clamp_of_a_layer_to_neurons_mapping_takes_the_value():
    # {layer: [neurons]} is a selection (as remove takes it), not neurons with their values
    result = edit.clamp(_mlp(), {1: [2, 4]}, TASK, value=0.25)
    assert result.report.params["neurons"] == {"1:2": 0.25, "1:4": 0.25}
    x = TASK.split("test")[0][:5]
    with torch.no_grad():
        hidden = result.model[:3](x)
    assert torch.equal(hidden[:, [2, 4]], torch.full((5, 2), 0.25))
