"""``metanet train`` on the shipped configs: ``--trainer.fast_dev_run`` writes no files, a ``--ckpt_path`` that is
not a checkpoint file is one error line, and ``--ckpt_path=last`` takes the checkpoint's model sizes wherever Lightning
finds it, starting from the random states the file's path gives."""

from __future__ import annotations

import functools
from pathlib import Path

import lightning as L
import pytest
import torch

from lightning_helpers import tiny_loop_fit, tiny_writer_fit
from metanet.cli import main
from metanet.train import _check_ckpt_path, cli_main
from metanet.errors import ConfigError


def _loop_args(tmp: Path, *extra: str) -> list[str]:
    # train/loop.yaml at toy size, no shipped writer: a fit step takes well under a second
    return tiny_loop_fit(tmp, *extra, rounds_per_epoch=1)


def test_fast_dev_run_writes_no_checkpoint(tmp_path, monkeypatch):
    # Lightning's ModelCheckpoint(save_last=True) of the shipped configs still wrote ./checkpoints/last.ckpt (the
    # logger is off, so into the working directory) although a fast_dev_run is to write no files
    monkeypatch.chdir(tmp_path)
    assert cli_main(_loop_args(tmp_path, "--trainer.fast_dev_run=true")) == 0
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == []


def test_a_missing_ckpt_path_is_one_error_line(tmp_path, capsys):
    # was a FileNotFoundError traceback from torch_io.load_checkpoint, after the run had been set up
    exported = tmp_path / "writer.safetensors"
    exported.write_bytes(b"\x10" + b"\0" * 7 + b'{"a": 1}        ')
    for value, what in ((tmp_path / "no such.ckpt", "not found"), (tmp_path, "a directory"),
                        (exported, "a metanet .safetensors file")):
        assert main(["train", *_loop_args(tmp_path / "run", f"--ckpt_path={value}")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1, err
        assert err[0].startswith(f"metanet: error: --ckpt_path {value}: {what}") and "last.ckpt" in err[0]
    assert not (tmp_path / "run" / "loop.safetensors").exists()
    # an empty one (an unset shell variable) was "--ckpt_path : a directory", the working directory
    assert main(["train", *_loop_args(tmp_path / "run", "--ckpt_path=")]) == 2
    assert "metanet: error: --ckpt_path needs a path" in capsys.readouterr().err


def test_a_ckpt_path_that_is_not_a_checkpoint_is_one_error_line(tmp_path, capsys):
    # LightningCLI torch.loads the file while parsing: UnpicklingError / KeyError / EOFError tracebacks
    for name, data in (("noise.ckpt", bytes(range(256)) * 2), ("notes.ckpt", b"hello world\n"), ("empty.ckpt", b"")):
        (tmp_path / name).write_bytes(data)
        assert main(["train", *_loop_args(tmp_path / "run", f"--ckpt_path={tmp_path / name}")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1, err
        assert err[0].startswith(f"metanet: error: --ckpt_path {tmp_path / name}: not a readable Lightning checkpoint")


def test_ckpt_path_check_leaves_lightnings_own_values_alone(tmp_path):
    (tmp_path / "a.ckpt").write_bytes(b"")
    for value in (None, "last", "hpc", "registry", "registry:my-model", "s3://bucket/a.ckpt",
                  str(tmp_path / "a.ckpt"), tmp_path / "a.ckpt"):
        _check_ckpt_path(value)
    with pytest.raises(ConfigError, match="not found"):
        _check_ckpt_path("lats")


def test_ckpt_path_best_is_one_error_line(tmp_path, capsys):
    # only a fit in the same process has a best checkpoint: Lightning's ValueError traceback, after the data loaded
    for stage in ("validate", "fit"):
        args = [stage if a == "fit" else a for a in _loop_args(tmp_path, "--ckpt_path=best")]
        assert main(["train", *args]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("metanet: error: --ckpt_path best: there is no best checkpoint")


# --- --ckpt_path=last takes the checkpoint's sizes, from the path's random states -------------------------------------


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
