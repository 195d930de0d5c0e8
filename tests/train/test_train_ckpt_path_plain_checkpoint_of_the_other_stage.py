"""``metanet train fit -c train/loop.yaml --ckpt_path FILE`` with a checkpoint written by plain Lightning (no class
name in its hyperparameters) of a WriterModule whose hyperparameters are options the LoopModule takes too
(``{hidden, message}``): the two modules' weights are alike, so it resumed into the loop silently (and a loop's into
the writer). A LoopModule's checkpoint is the one holding ``writer_config``: the other stage's is one error line."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from lightning_helpers import tiny_loop_fit
from metanet.cli import main
from metanet.errors import ConfigError
from metanet.train import _check_ckpt_classes

WRITER = {"class_path": "metanet.writer.lightning.WriterModule", "init_args": {}}
LOOP = {"class_path": "metanet.loop.lightning.LoopModule", "init_args": {}}
SHARED = {"hidden": 8, "message": 4}


def _ckpt(tmp: Path, name: str, hparams: dict | None, loop: bool) -> Path:
    f = tmp / name
    torch.save({"hyper_parameters": hparams, "state_dict": {}, **({"writer_config": SHARED} if loop else {})}, f)
    return f


def test_a_writers_plain_checkpoint_with_the_loop_config_is_one_error_line(tmp_path, capsys):
    f = _ckpt(tmp_path, "writer.ckpt", SHARED, loop=False)
    assert main(["train", *tiny_loop_fit(tmp_path, f"--ckpt_path={f}")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"metanet: error: --ckpt_path {f}: a checkpoint of a WriterModule (it names no class: not written "
                   "by 'metanet train'; it lacks the writer_config every LoopModule checkpoint holds), but the config's "
                   "model is LoopModule; give a checkpoint of a run of this config, or this checkpoint with the config "
                   "it was trained with (train/writer.yaml)"]
    assert not (tmp_path / "runs").exists()


def test_a_loops_plain_checkpoint_with_the_writer_config_is_refused(tmp_path):
    f = _ckpt(tmp_path, "loop.ckpt", {"hidden": 8}, loop=True)
    with pytest.raises(ConfigError, match=r"a checkpoint of a LoopModule .* it holds the writer_config .* config's "
                                          r"model is WriterModule; .*\(train/loop\.yaml\)"):
        _check_ckpt_classes(f, WRITER)


def test_each_stage_keeps_its_own_and_telling_options_are_left_to_the_option_check(tmp_path):
    assert _check_ckpt_classes(_ckpt(tmp_path, "w.ckpt", SHARED, loop=False), WRITER) == SHARED
    assert _check_ckpt_classes(_ckpt(tmp_path, "l.ckpt", SHARED, loop=True), LOOP) == SHARED
    # an option only a loop takes says which it is; a checkpoint written by LightningCLI names its class
    assert _check_ckpt_classes(_ckpt(tmp_path, "old.ckpt", {**SHARED, "candidates": 2}, loop=False), LOOP)
    cli = {"_class_path": LOOP["class_path"], **SHARED}
    assert _check_ckpt_classes(_ckpt(tmp_path, "cli.ckpt", cli, loop=False), LOOP) == cli
