"""Blind backdoor repair on a 2-class task: Neural Cleanse's anomaly index cannot single out a class among two, so
blind mode is refused with a clear error (it used to report "no backdoor found" for any network, backdoored or not).
"""

from __future__ import annotations

import math

import pytest
import torch
from inspect_helpers import train

from metanet import edit, tasks
from metanet.cli import main
from metanet.edit.repair import anomaly_index, reconstruct_trigger
from metanet.errors import TaskError
from metanet.io import save
from metanet.nets import build
from metanet.zoo.backdoor import apply_trigger, poison_indices

TASK = "digits[0,1]"
# a 2x2 square in the bottom-right corner of the 8x8 digits sends them to class 1
TRIGGER = {"kind": "square", "size": 2, "location": [6, 6], "pattern": [[1, 1], [1, 1]], "target": 1}
NEEDS = ("blind repair needs at least 3 classes: the anomaly index compares one class's trigger norm against the "
         "median of the others")


@pytest.fixture(scope="module")
def backdoored():
    """A 2-class MLP with a working backdoor (attack success rate 1 on the test split)."""
    x, y = tasks.get(TASK).split("train")
    idx = poison_indices(len(x), 0.1, torch.Generator().manual_seed(0))
    x[idx] = apply_trigger(x[idx], TRIGGER)
    y[idx] = TRIGGER["target"]
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    model = train(build("mlp:64-16-2:relu", seed=0), x, y, epochs=40)
    torch.set_num_threads(n)
    assert edit.attack_success_rate(model, TASK, TRIGGER) > 0.9
    return model


def test_the_anomaly_index_of_two_classes_never_flags_either():
    """Why: with two values the median is the smaller one and the MAD is 0, so the smaller mask scores exactly 0
    (never above the threshold 3, nor 1) however far apart the two norms are."""
    for small, large in ((1.0, 1.5), (1.0, 1000.0)):
        a = anomaly_index(torch.tensor([math.log(large), math.log(small)]))
        assert a[1] == 0 and a[0] < -1e6


@pytest.mark.parametrize("trigger, blind", [(None, None), (None, True), (TRIGGER, True)])
def test_blind_repair_on_two_classes_is_an_error(backdoored, trigger, blind):
    with pytest.raises(TaskError) as info:
        edit.repair_backdoor(backdoored, TASK, trigger, blind=blind)
    message = str(info.value)
    assert message.startswith(NEEDS) and f"task {TASK} has 2" in message and "\n" not in message


def test_reconstruct_trigger_on_two_classes_is_an_error(backdoored):
    x, _ = tasks.get(TASK).split("val")
    with pytest.raises(TaskError, match=r"^blind repair needs at least 3 classes: .*; num_classes is 2$"):
        reconstruct_trigger(backdoored, x, 2, steps=2)
    three = build("mlp:64-4-3:relu", seed=0)  # three classes are enough to ask
    _, info = reconstruct_trigger(three, x, 3, steps=2)
    assert len(info["anomaly_index"]) == 3


def test_known_trigger_repair_on_two_classes_still_works(backdoored):
    _, rep = edit.repair_backdoor(backdoored, TASK, TRIGGER)
    assert rep.details["mode"] == "known trigger" and rep.details["backdoor_found"]


@pytest.mark.parametrize("flags", [[], ["--blind", "--trigger", '{"size": 2, "location": [6, 6], "target": 1}']])
def test_cli_blind_repair_on_two_classes_is_one_error_line(tmp_path, capsys, backdoored, flags):
    src = save(backdoored, tmp_path / "net.safetensors", task=TASK)  # no trigger in its metadata: blind by default
    out = tmp_path / "out.safetensors"
    assert main(["edit", str(src), "--repair-backdoor", *flags, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"metanet: error: {NEEDS}; task {TASK} has 2")
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["net.safetensors"]
