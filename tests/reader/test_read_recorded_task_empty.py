"""``metanet.read(path)["recorded_task"]`` is the task the file's metadata names, or None when it names none: an
empty task name (``metanet.save(net, path, task="")``) or one that is no string names no task, so it is None, never
``""`` (a caller testing ``is None`` took "" for a recorded task)."""

from __future__ import annotations

import pytest

import metanet
from metanet.nets import Arch, build


@pytest.mark.parametrize("task, recorded", [("", None), (7, None), (None, None), ("digits", "digits")])
def test_recorded_task_is_the_name_or_none(task, recorded, small_reader, tmp_path):
    path = metanet.save(build(Arch.parse("mlp:64-8-10"), seed=0), tmp_path / "net.safetensors", task=task)
    assert metanet.load_meta(path)["task"] == task  # the file does record it
    assert metanet.read(path, reader=small_reader, scan=False)["recorded_task"] == recorded
