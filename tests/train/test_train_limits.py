"""A ``--trainer.limit_*_batches`` (or ``overfit_batches``) fraction that leaves a loader no batch is one error line
naming the option and the valid values, before any training step: it was Lightning's MisconfigurationException
traceback ("You requested to check 0.5 of the `train_dataloader` but 0.5 * 1 < 1")."""

from __future__ import annotations

from pathlib import Path

import pytest

from lightning_helpers import tiny_loop_fit, tiny_writer_fit
from metanet.errors import ConfigError
from metanet.train import _limit_error, cli_main

ROOT = Path(__file__).resolve().parents[2]


def _reader_args(tmp: Path, zoo: Path, *extra: str) -> list[str]:
    # 16 networks, batch_size 32: one training batch an epoch
    return ["fit", "-c", str(ROOT / "train" / "reader.yaml"), "--trainer.enable_progress_bar=false",
            "--trainer.logger=false", f"--trainer.default_root_dir={tmp}", "--trainer.max_epochs=1",
            f"--model.init_args.export={tmp / 'reader.safetensors'}", f"--data.init_args.zoos=[{zoo}]",
            "--data.init_args.max_nets=16", "--data.init_args.exclude_archs=[]", "--model.init_args.hidden=8",
            "--model.init_args.layers=1", "--model.init_args.scan_steps=0", *extra]


def _one_error_line(capsys) -> str:
    # Lightning's INFO lines (seed, accelerators) reach stderr when nothing configured logging first
    err = [line for line in capsys.readouterr().err.strip().splitlines() if not line.startswith("INFO: ")]
    assert len(err) == 1 and err[0].startswith("metanet: error: "), err
    return err[0]


def test_reader_train_fraction_of_one_batch_is_one_error_line(tmp_path, tiny_zoo, capsys):
    assert cli_main(_reader_args(tmp_path, tiny_zoo, "--trainer.limit_train_batches=0.5")) == 2
    err = _one_error_line(capsys)
    assert "--trainer.limit_train_batches=0.5: the train loader has 1 batch," in err
    assert "give 1.0 (all of it) or a whole number of batches such as --trainer.limit_train_batches=1" in err
    assert not list(tmp_path.rglob("*.ckpt")) and not (tmp_path / "reader.safetensors").exists()  # no training


@pytest.mark.parametrize("extra, option", [
    (("--trainer.limit_train_batches=0.5",), "limit_train_batches"),
    (("--trainer.limit_val_batches=0.5", "--trainer.num_sanity_val_steps=0"), "limit_val_batches"),
    (("--trainer.overfit_batches=0.5",), "overfit_batches"),  # Lightning's limit of both loaders then
])
def test_writer_fractions_that_leave_no_batch_are_one_error_line(tmp_path, capsys, extra, option):
    # one training episode batch an epoch, one val batch; the config's limit_val_batches, not the helper's 1
    assert cli_main(tiny_writer_fit(tmp_path, *extra, max_steps=1, logger=False, limit_val_batches=None)) == 2
    err = _one_error_line(capsys)
    assert f"--trainer.{option}=0.5: the " in err and f"such as --trainer.{option}=1" in err, err
    assert not list(tmp_path.rglob("*.ckpt")) and not (tmp_path / "writer.safetensors").exists()


def test_loop_val_fraction_is_one_error_line(tmp_path, capsys):
    # the loop scores all its held-out tasks in one batch: any fraction below 1.0 of it is none
    # the held-out tasks are scored in one val batch
    assert cli_main(tiny_loop_fit(tmp_path, "--trainer.limit_val_batches=0.5", logger=False)) == 2
    err = _one_error_line(capsys)
    assert "--trainer.limit_val_batches=0.5: the val loader has 1 batch," in err
    assert not list(tmp_path.rglob("*.ckpt")) and not (tmp_path / "loop.safetensors").exists()


@pytest.mark.parametrize("n, least", [(2, "0.5"), (3, "0.34"), (49, "0.021"), (1000, "0.001")])
def test_limit_error_gives_a_fraction_that_selects_a_batch(n, least):
    e = _limit_error(Exception(f"You requested to check 0.0001 of the `test_dataloader` but 0.0001 * {n} < 1. "
                               f"Please increase the `limit_test_batches` argument."), None)
    assert isinstance(e, ConfigError)
    assert f"--trainer.limit_test_batches=0.0001: the test loader has {n} batches," in str(e)
    assert f"a fraction from {least} to 1.0" in str(e)
    assert int(n * float(least)) >= 1  # Lightning's count of the batches it selects


def test_other_lightning_errors_are_left_alone():
    assert _limit_error(Exception("found `ModelCheckpoint` in callbacks list"), None) is None
