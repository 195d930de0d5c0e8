"""Review of session 33's ``--ckpt_path=last`` change (``metanet train``): the checkpoint's model hyperparameters are
taken in every layout Lightning itself searches (no logger, a ModelCheckpoint ``dirpath``), and the classes made
again for them start from the same random states as with the file's path."""

from __future__ import annotations

import functools
from pathlib import Path

import lightning as L
import pytest
import torch

from lightning_helpers import tiny_writer_fit
from metanet.train import cli_main

OTHER_SIZES = {"hidden": 32, "message": 16}  # train/writer.yaml's own; the fits below are at hidden=8 / message=4


def _fixed_dirpath(tmp: Path) -> Path:
    cfg = tmp / "fixed.yaml"
    cfg.write_text("trainer:\n  callbacks:\n    - class_path: lightning.pytorch.callbacks.ModelCheckpoint\n"
                   f"      init_args:\n        dirpath: {tmp / 'ck'}\n        filename: last\n")
    return cfg


@pytest.mark.parametrize("layout", ["no logger", "dirpath"])
def test_ckpt_path_last_takes_the_checkpoints_sizes_where_lightning_finds_it(tmp_path, capsys, layout):
    # Lightning's own search finds `last` there, after the classes were made with the config's sizes: a "size
    # mismatch for writer.messages..." RuntimeError traceback, where the same file's path validated
    kw = {"logger": False} if layout == "no logger" else {"configs": [_fixed_dirpath(tmp_path)]}
    where = tmp_path / "checkpoints" if layout == "no logger" else tmp_path / "ck"
    validate = ["validate", *tiny_writer_fit(tmp_path, "--ckpt_path=last", max_steps=1, model=OTHER_SIZES, **kw)[1:]]
    capsys.readouterr()
    assert cli_main(validate) == 2  # none yet: one error line naming where it looked
    assert f"no last checkpoint to validate (no last.ckpt in {where})" in capsys.readouterr().err
    assert cli_main(tiny_writer_fit(tmp_path, max_steps=1, **kw)) == 0
    assert (where / "last.ckpt").is_file()
    assert cli_main(validate) == 0


def test_ckpt_path_last_makes_the_classes_from_the_random_states_the_path_does(tmp_path, monkeypatch):
    # the classes made first with the config's sizes, then again with the checkpoint's, drew from the seeded
    # generators twice: the run went on from other random states than the same file's path gave it
    assert cli_main(tiny_writer_fit(tmp_path, max_steps=1)) == 0
    ckpt = tmp_path / "runs" / "writer" / "version_0" / "checkpoints" / "last.ckpt"
    states = []

    @functools.wraps(L.Trainer.validate)  # its signature: LightningCLI makes the stage's options from it
    def validate(self, *args, **kwargs):  # the state the stage starts from (its run itself is not needed)
        states.append(torch.get_rng_state())
        return []

    monkeypatch.setattr(L.Trainer, "validate", validate)
    for given in (ckpt, "last"):
        args = tiny_writer_fit(tmp_path, f"--ckpt_path={given}", max_steps=1, model=OTHER_SIZES)
        assert cli_main(["validate", *args[1:]]) == 0
    assert len(states) == 2 and torch.equal(states[0], states[1])
