"""``metanet train STAGE -c CONFIG --ckpt_path FILE`` with a checkpoint of another stage's LightningModule is one
error line: LightningCLI put the checkpoint's class in place of the config's and kept the config's data module, so a
loop checkpoint with train/writer.yaml validated the loop on the writer's episodes (exit 0) and a writer checkpoint
with train/reader.yaml was an AttributeError traceback."""

from __future__ import annotations

import pytest
import torch

from lightning_helpers import tiny_loop_fit
from metanet.cli import main
from metanet.errors import ConfigError
from metanet.loop.lightning import LoopModule
from metanet.train import _check_ckpt_classes

WRITER = "metanet.writer.lightning.WriterModule"
LOOP = "metanet.loop.lightning.LoopModule"
READER = "metanet.reader.lightning.ReaderModule"


class MyLoop(LoopModule):
    """A config's own subclass of a stage module: its checkpoints and the base class's go together."""


def _ckpt(path, class_path):
    torch.save({"hyper_parameters": {"_class_path": class_path, "hidden": 8, "message": 4}, "state_dict": {}}, path)
    return path


@pytest.mark.parametrize("saved, given", [(LOOP, WRITER), (WRITER, READER), (READER, LOOP)])
def test_a_checkpoint_of_another_stage_is_refused(tmp_path, saved, given):
    run = tmp_path / "runs" / "x" / "version_0"
    (run / "checkpoints").mkdir(parents=True)
    f = _ckpt(run / "checkpoints" / "last.ckpt", saved)
    name = saved.rsplit(".", 1)[-1]
    with pytest.raises(ConfigError, match=rf"a checkpoint of {name}, but the config's model is "
                                          rf"{given.rsplit('.', 1)[-1]}; .*\(train/\w+\.yaml\)$"):
        _check_ckpt_classes(f, {"class_path": given, "init_args": {}})
    (run / "config.yaml").write_text("model: {}\n")  # the run's own config is the one to name
    with pytest.raises(ConfigError, match=r"\(.*version_0/config\.yaml\)$"):
        _check_ckpt_classes(f, {"class_path": given, "init_args": {}})


def test_a_checkpoint_of_the_same_module_or_a_subclass_passes(tmp_path):
    f = _ckpt(tmp_path / "a.ckpt", LOOP)
    _check_ckpt_classes(f, {"class_path": LOOP})
    _check_ckpt_classes(f, {"class_path": f"{__name__}.MyLoop"})
    _check_ckpt_classes(f, {})  # no class in the config: LightningCLI takes the checkpoint's
    _check_ckpt_classes(_ckpt(tmp_path / "b.ckpt", f"{__name__}.MyLoop"), {"class_path": f"{__name__}.MyLoop"})


def test_the_cli_refuses_it_in_one_line_before_the_run(tmp_path, capsys):
    f = _ckpt(tmp_path / "writer.ckpt", WRITER)
    assert main(["train", *tiny_loop_fit(tmp_path, f"--ckpt_path={f}")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"metanet: error: --ckpt_path {f}: a checkpoint of WriterModule, but the config's model is "
                   "LoopModule; give a checkpoint of a run of this config, or this checkpoint with the config it was "
                   "trained with (train/writer.yaml)"]
    assert not (tmp_path / "loop.safetensors").exists() and not (tmp_path / "runs").exists()
