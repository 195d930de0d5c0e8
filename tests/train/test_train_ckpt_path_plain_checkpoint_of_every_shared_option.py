"""A plain-Lightning checkpoint (no class name) whose hyperparameters are every option the WriterModule and the
LoopModule both take, no fewer: it still tells the stage it was saved by (a LoopModule's holds ``writer_config``),
and given with the other stage's config it is one error line, as one of only some of them is. In-process."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from metanet.errors import ConfigError
from metanet.loop.lightning import LoopModule
from metanet.train import _check_ckpt_classes, _init_names
from metanet.writer.lightning import WriterModule

WRITER = {"class_path": "metanet.writer.lightning.WriterModule", "init_args": {}}
LOOP = {"class_path": "metanet.loop.lightning.LoopModule", "init_args": {}}


def _shared() -> dict:
    names = sorted(set(_init_names(WriterModule)) & set(_init_names(LoopModule)))
    assert {"hidden", "message"} < set(names)  # more than the sizes: the set is every shared option
    return {n: None for n in names}


def _ckpt(tmp: Path, hparams: dict, loop: bool) -> Path:
    f = tmp / ("loop.ckpt" if loop else "writer.ckpt")
    torch.save({"hyper_parameters": hparams, "state_dict": {}, **({"writer_config": {"hidden": 8}} if loop else {})}, f)
    return f


def test_a_writers_checkpoint_of_every_shared_option_is_refused_with_the_loop_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"a checkpoint of a WriterModule .* config's model is LoopModule"):
        _check_ckpt_classes(_ckpt(tmp_path, _shared(), loop=False), LOOP)


def test_a_loops_checkpoint_of_every_shared_option_is_refused_with_the_writer_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"a checkpoint of a LoopModule .* config's model is WriterModule"):
        _check_ckpt_classes(_ckpt(tmp_path, _shared(), loop=True), WRITER)
