"""metanet.read(net, "digits"): a task name where the reader checkpoint goes is named as such."""

import re

import pytest

import metanet
from metanet.errors import CheckpointError
from metanet.nets import build


@pytest.mark.parametrize("task", ["digits", "mnist[3,8]"])
def test_a_task_name_as_reader_says_read_takes_no_task(task, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no file of that name here
    net = build("mlp:64-8-10:relu", seed=0)
    # was "no reader checkpoint at digits", by analogy with verify(net, "digits")
    want = r"is a task name.*" + re.escape(f"metanet.verify(model, '{task}')")
    with pytest.raises(CheckpointError, match=want) as info:
        metanet.read(net, task)
    assert "\n" not in str(info.value)


def test_a_missing_checkpoint_path_keeps_its_message(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CheckpointError, match="no reader checkpoint at missing.safetensors"):
        metanet.read(build("mlp:64-8-10:relu", seed=0), "missing.safetensors")
