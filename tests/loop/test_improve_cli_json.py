"""``metanet improve --json``: ``config.reward`` names the reward as ``--reward`` takes it (it was the Python repr,
``"AccuracyReward(tie=0.001) + SizePenalty(weight=0.05, threshold=0.001)"``, which no script could read back)."""

from __future__ import annotations

import json

import pytest
import torch

from metanet.cli import main
from metanet.loop.rewards import make_reward


@pytest.fixture(scope="module")
def writer_file(tmp_path_factory):
    from metanet.writer import Writer

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        w = Writer(hidden=8, message=4)
    return str(w.save(tmp_path_factory.mktemp("writer") / "w.safetensors"))


@pytest.mark.parametrize("given, named", [("accuracy", "accuracy"),
                                          ("accuracy + size(0.1)", "accuracy+size(0.1)"),
                                          ("size+accuracy", "size(0.05)+accuracy")])
def test_config_reward_is_what_reward_takes(writer_file, capsys, given, named):
    argv = ["improve", "digits", "--rounds", "0", "--candidates", "1", "--writer", writer_file, "--reward", given,
            "--json"]
    assert main(argv) == 0
    reward = json.loads(capsys.readouterr().out)["config"]["reward"]
    assert reward == named
    assert repr(make_reward(reward)) == repr(make_reward(given))  # the same reward, read back
