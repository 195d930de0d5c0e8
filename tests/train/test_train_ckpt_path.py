"""``metanet train`` on the shipped configs: ``--trainer.fast_dev_run`` writes no files, a ``--ckpt_path`` that is
not a checkpoint file is one error line."""

from __future__ import annotations

from pathlib import Path

import pytest

from lightning_helpers import tiny_loop_fit
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
