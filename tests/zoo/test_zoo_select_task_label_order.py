"""``Zoo.select(task=...)`` matches any spelling of a task, but a class subset listed in another order is another
task (the listed order is the label order), as its docstring says."""

from __future__ import annotations

import copy

import torch

from metanet import tasks
from metanet.zoo import Zoo, build

RECIPE = {"name": "label-order", "count": 2, "tasks": ["digits[3,8]"], "arch": {"width": 4},
          "train": {"epochs": 1, "train_examples": 100}, "eval": {"train_examples": 50}}


def test_a_reordered_class_subset_is_another_task(tmp_path):
    build(copy.deepcopy(RECIPE), tmp_path / "z", progress=False)
    _, y38 = tasks.get("digits[3,8]").split("test")
    _, y83 = tasks.get("digits[8,3]").split("test")
    assert torch.equal(y38, 1 - y83)  # the same images, every label swapped
    with Zoo(tmp_path / "z") as zoo:
        assert len(zoo.select(task="DIGITS[3,8]")) == len(zoo) == 2
        assert zoo.select(task="digits[8,3]") == []
