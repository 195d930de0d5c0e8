"""Hyperparameters given as numpy / torch integers (taken by the size checks since ``errors.as_index``) are saved as
Python ints: the checkpoint loads with ``weights_only=True`` and ``hparams.yaml`` reads back."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from lightning.pytorch.core.saving import load_hparams_from_yaml, save_hparams_to_yaml

from metanet.loop.lightning import LoopDataModule, LoopModule
from metanet.reader.lightning import ReaderDataModule, ReaderModule
from metanet.train.stage import plain_hparams
from metanet.writer.lightning import EpisodeDataModule, WriterModule

CASES = [
    (WriterModule, {"hidden": np.int64(8), "message": torch.tensor(4)}, "hidden"),
    (LoopModule, {"writer": None, "hidden": np.int32(8), "candidates": np.int64(2)}, "hidden"),
    (ReaderModule, {"hidden": np.int64(8), "probe_inputs": [np.int64(784), 64]}, "hidden"),
    (EpisodeDataModule, {"tasks_per_step": np.int64(2)}, "tasks_per_step"),
    (LoopDataModule, {"tasks_per_round": np.int64(2)}, "tasks_per_round"),
    (ReaderDataModule, {"batch_size": np.int64(4)}, "batch_size"),
]


@pytest.mark.parametrize("cls, kwargs, key", CASES, ids=[c[0].__name__ for c in CASES])
def test_numpy_sizes_are_saved_as_python_ints(cls, kwargs, key, tmp_path):
    m = cls(**kwargs)
    assert type(m.hparams[key]) is int and m.hparams[key] == int(kwargs[key])
    # what a Lightning checkpoint holds, loaded as metanet and Lightning's weights_only loads do
    buf = io.BytesIO()
    torch.save({"hyper_parameters": dict(m.hparams)}, buf)
    buf.seek(0)
    assert torch.load(buf, weights_only=True)["hyper_parameters"][key] == int(kwargs[key])
    # what the loggers write to hparams.yaml, read back by Lightning
    save_hparams_to_yaml(tmp_path / "hparams.yaml", m.hparams_initial)
    assert load_hparams_from_yaml(tmp_path / "hparams.yaml")[key] == int(kwargs[key])


def test_plain_hparams_nested_numpy_and_kept_values():
    m = WriterModule()
    m._hparams["extra"] = {"a": [np.int16(3), (np.float64(0.5), np.bool_(True))], "t": torch.ones(2), "s": "x"}
    plain_hparams(m)
    extra = m.hparams["extra"]
    assert extra["a"][0] == 3 and type(extra["a"][0]) is int
    assert type(extra["a"][1]) is tuple and type(extra["a"][1][0]) is float and extra["a"][1][1] is True
    assert torch.equal(extra["t"], torch.ones(2)) and extra["s"] == "x"  # not a number: left as it is
