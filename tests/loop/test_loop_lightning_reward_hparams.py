"""A LoopModule given a Reward object (from Python) saves it as reward_spec spells it: saved as the object, its
hparams.yaml had a ``!!python/object`` tag and its checkpoints could not be loaded (torch.load(weights_only=True),
as load_from_checkpoint reads them, refused the Reward class)."""

from __future__ import annotations

import io

import torch
import yaml

from metanet.loop import AccuracyReward, Reward, SizePenalty
from metanet.loop.lightning import LoopModule


class _LossOnly(Reward):
    def score(self, reports, params):
        return [-r.loss / (1 + r.loss) for r in reports]


def _saved_and_loaded(hparams: dict) -> dict:
    buf = io.BytesIO()
    torch.save({"hyper_parameters": hparams}, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)["hyper_parameters"]  # as load_from_checkpoint reads a checkpoint


def test_a_built_in_reward_object_is_saved_as_its_spec_and_rebuilt_from_it():
    m = LoopModule(writer=None, hidden=4, message=4, reward=AccuracyReward() + SizePenalty(0.1))
    assert repr(m.reward) == repr(AccuracyReward() + SizePenalty(0.1))
    assert m.hparams["reward"] == m.hparams_initial["reward"] == "accuracy+size(0.1)"
    yaml.safe_load(yaml.dump(dict(m.hparams_initial)))  # a plain hparams.yaml: no python/object tag
    again = LoopModule(**_saved_and_loaded(dict(m.hparams)))  # what load_from_checkpoint does
    assert repr(again.reward) == repr(m.reward)


def test_a_reward_of_ones_own_is_saved_as_its_repr_and_given_again_on_load():
    mine = _LossOnly()
    m = LoopModule(writer=None, hidden=4, message=4, reward=mine)
    assert m.reward is mine and m.hparams["reward"] == "_LossOnly()"
    again = LoopModule(**{**_saved_and_loaded(dict(m.hparams)), "reward": mine})
    assert again.reward is mine


def test_a_reward_spec_string_is_saved_as_given():
    m = LoopModule(writer=None, hidden=4, message=4, reward="accuracy + size")
    assert m.hparams["reward"] == "accuracy + size"
