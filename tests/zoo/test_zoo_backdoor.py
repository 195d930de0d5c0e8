"""Backdoor triggers (``metanet/zoo/backdoor.py``): poisoned fractions and sizes, triggers that must fit the images,
the device and dtype of triggered inputs, the poisoned test set, and a hand-made run with a bad trigger refused
before training."""

from __future__ import annotations

import pytest
import torch

from metanet.errors import ConfigError
from metanet.nets import Arch
from metanet.zoo.backdoor import apply_trigger, poison_indices, poisoned_test_set, trigger_tensors
from metanet.zoo.data import load_task_data
from metanet.zoo.recipe import RunSpec
from metanet.zoo.train import train_population


_TRIGGER = {"kind": "square", "size": 3, "location": [4, 4], "pattern": [[1] * 3] * 3, "target": 2,
            "poison_rate": 0.1}


def test_poison_indices_refuse_rates_and_counts_that_are_not_fractions_and_sizes():
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    assert poison_indices(10, 0.3, g()).tolist() == torch.randperm(10, generator=g())[:3].tolist()
    with pytest.raises(ConfigError, match=r"rate = -0.2; valid: numbers in \[0, 1\]"):
        poison_indices(10, -0.2, g())  # sliced [:-2]: 8 of 10 examples poisoned
    for rate in (1.5, float("nan"), "0.1", True):
        with pytest.raises(ConfigError, match="rate"):
            poison_indices(10, rate, g())
    for n in (-3, 10.5, "10"):
        with pytest.raises(ConfigError, match="n = "):
            poison_indices(n, 0.5, g())


@pytest.mark.parametrize("change, match", [
    ({"location": [7, 7]}, r"location \[7, 7\] does not place a 3x3 patch inside 8x8 images; valid: .*0\.\.5"),
    ({"location": [-1, 0]}, "location"),
    ({"location": "corner"}, "location"),
    ({"size": 9, "pattern": [[1] * 9] * 9, "location": [0, 0]}, r"size 9 does not fit 8x8 images; valid: integers 1\.\.8"),
    ({"size": 2.5}, "size"),
    ({"pattern": [[1, 1]]}, r"pattern .* is not a 3x3"),
    ({"pattern": "square"}, "pattern"),
])
def test_a_trigger_that_does_not_fit_the_images_is_a_config_error(change, match):
    with pytest.raises(ConfigError, match=match):
        trigger_tensors({**_TRIGGER, **change}, (1, 8, 8))


def test_trigger_argument_errors_name_what_is_missing():
    with pytest.raises(ConfigError, match=r"missing \['location', 'pattern'\]"):
        trigger_tensors({"size": 3}, (1, 8, 8))
    with pytest.raises(ConfigError, match=r"shape \(C, H, W\)"):
        trigger_tensors(_TRIGGER, (8, 8))
    with pytest.raises(ConfigError, match=r"\(\.\.\., C, H, W\)"):
        apply_trigger(torch.rand(5, 64), _TRIGGER)


def test_apply_trigger_follows_the_inputs_device_and_dtype():
    x = torch.rand(2, 1, 8, 8, dtype=torch.float64)
    out = apply_trigger(x, _TRIGGER)
    assert out.dtype == torch.float64 and bool((out[:, :, 4:7, 4:7] == 1).all())
    assert torch.equal(out[:, :, :4], x[:, :, :4])
    assert apply_trigger(torch.empty(3, 1, 8, 8, device="meta"), _TRIGGER).device.type == "meta"  # was a RuntimeError


def test_poisoned_test_set_refuses_a_fractional_or_named_target_and_mismatched_labels():
    x, y = torch.rand(5, 1, 8, 8), torch.tensor([0, 1, 2, 3, 2])
    xs, ys = poisoned_test_set(x, y, _TRIGGER)
    assert len(xs) == 3 and ys.tolist() == [2, 2, 2]
    with pytest.raises(ConfigError, match="target 2.7 is not a class index"):
        poisoned_test_set(x, y, {**_TRIGGER, "target": 2.7})  # was class 2, silently
    with pytest.raises(ConfigError, match="target 'random'"):
        poisoned_test_set(x, y, {**_TRIGGER, "target": "random"})
    with pytest.raises(ConfigError, match=r"\(5, 1, 8, 8\) and \(3,\)"):
        poisoned_test_set(x, y[:3], _TRIGGER)


def _run(backdoor: dict) -> RunSpec:
    hp = {"optimizer": "adam", "lr": 1e-2, "batch_size": 64, "epochs": 1, "n_train": 200}
    return RunSpec(0, "digits", Arch("mlp", (64, 4, 10), "relu"), hp, 5, [1], backdoor)


@pytest.mark.parametrize("change, match", [
    ({"target": 12}, r"backdoor target 12 is not a class of task 'digits' \(valid: 0\.\.9\)"),
    ({"target": "random"}, "target 'random'"),
    ({"location": [6, 6]}, "location"),
])
def test_a_hand_made_run_with_a_bad_trigger_fails_before_training(change, match):
    data = {"digits": load_task_data("digits", 200, 50, 0)}
    with pytest.raises(ConfigError, match=match):
        train_population([_run({**_TRIGGER, **change})], data)
    bd = dict(_TRIGGER)
    del bd["poison_rate"]
    with pytest.raises(ConfigError, match="no 'poison_rate'"):
        train_population([_run(bd)], data)
