"""Triggers (parsing, stamping, out-of-image), and backdoor repair on clean networks and awkward splits."""

from __future__ import annotations

import json

import pytest
import torch
from inspect_helpers import digits_mlp

from metanet import edit, tasks
from metanet.edit.trigger import as_trigger, triggered_set
from metanet.errors import TaskError
from metanet.nets import build
from metanet.zoo.backdoor import apply_trigger as zoo_apply

SQUARE = {"kind": "square", "size": 2, "location": [6, 6], "target": 3}


def test_apply_trigger_reads_any_trigger_as_trigger_does():
    # a square without its pattern and the zoo's 'pos' spelling were a raw KeyError in edit.apply_trigger
    x = torch.rand(4, 1, 8, 8)
    full = {**SQUARE, "pattern": [[1, 1], [1, 1]]}
    want = zoo_apply(x, full)
    assert torch.equal(edit.apply_trigger(x, SQUARE), want)
    assert torch.equal(edit.apply_trigger(x, {"size": 2, "pos": [6, 6], "target": 3, "kind": "square"}), want)
    assert torch.equal(edit.apply_trigger(x, json.dumps(SQUARE)), want)
    assert torch.equal(edit.apply_trigger(x[0], SQUARE), want[0])  # one image (C, H, W), as the zoo's stamps it
    y = torch.tensor([3, 0, 1, 3])
    assert torch.equal(triggered_set(x, y, json.dumps(SQUARE)), want[y != 3])


@pytest.mark.parametrize("location", [[7, 7], [-1, 0], [0, 8]])
def test_apply_trigger_outside_the_image_is_a_task_error(location):
    # was a raw RuntimeError from a shape mismatch (or, for -1, a patch stamped at a wrapped-around place)
    with pytest.raises(TaskError, match=r"does not fit 8x8 images; valid locations: rows 0\.\.6, cols 0\.\.6"):
        edit.apply_trigger(torch.rand(2, 1, 8, 8), {**SQUARE, "location": location})


def test_trigger_larger_than_the_image_names_the_valid_sizes():
    with pytest.raises(TaskError, match=r"size 3 is larger than the task's 2x2 images; valid sizes: 1\.\.2"):
        as_trigger({"size": 3, "location": [0, 0], "target": 0}, (1, 2, 2))
    # checked before the default pattern is built: a typo'd size does not build size**2 values first
    with pytest.raises(TaskError, match="larger than"):
        as_trigger({"size": 10**6, "location": [0, 0], "target": 0}, (1, 8, 8))


def test_negative_target_is_refused_without_a_task():
    # -1 passed when no num_classes was known, and then x[y != -1] stamped every example
    with pytest.raises(TaskError, match=r"trigger target -1 is not a class index"):
        as_trigger({**SQUARE, "target": -1})


@pytest.mark.parametrize("size", [2**70, 10**5])
def test_a_huge_trigger_without_an_image_shape_is_refused(size):
    # 2**70 was a raw OverflowError building the default pattern; 10**5 built ten billion values
    with pytest.raises(TaskError, match=r"larger than any patch trigger \(valid: 1\.\.4096 pixels\)"):
        as_trigger({**SQUARE, "size": size})


@pytest.mark.parametrize("text", ["[1, 2]", "3", '"square"'])
def test_json_that_is_not_an_object_says_so(text):
    with pytest.raises(TaskError, match=r"^a trigger must be a JSON object"):
        as_trigger(text)


def test_known_trigger_that_fails_on_a_clean_network_is_no_backdoor_found():
    # the trigger does nothing on this clean network: the report said backdoor_found True, strategy none
    model, rep = edit.repair_backdoor(digits_mlp(), "digits", SQUARE)
    assert rep.asr_before <= 0.10
    assert rep.details["backdoor_found"] is False and rep.details["target"] == 3
    assert rep.details["strategy"] == [] and rep.details["neurons"] == []
    assert rep.after.accuracy == rep.before.accuracy
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), digits_mlp().state_dict().values()))


def test_repair_with_an_empty_calibration_split_is_a_task_error():
    # val empty: every repair read as "the trigger does not work here" and returned the network unchanged
    g = torch.Generator().manual_seed(0)
    task = tasks.from_examples(torch.rand(60, 1, 8, 8, generator=g), torch.arange(60) % 3, val_fraction=0)
    model = build("mlp:64-8-3:relu", seed=0)
    with pytest.raises(TaskError, match=r"split 'val' of task .* has no examples to choose the repair on \(calib_split\)"):
        edit.repair_backdoor(model, task, {**SQUARE, "target": 1})
    rep = edit.repair_backdoor(model, task, {**SQUARE, "target": 1}, calib_split="train").report
    assert rep.details["mode"] == "known trigger"


def test_blind_false_without_a_trigger_is_refused():
    # blind=False with no trigger silently ran the blind reconstruction
    with pytest.raises(TaskError, match=r"blind=False needs the known trigger"):
        edit.repair_backdoor(digits_mlp(), "digits", blind=False)
