"""``metanet train`` as a researcher runs it on the shipped configs: a config given as ``--config=~/...`` (no shell
expands ``~`` after ``=``; jsonargparse does); ``--ckpt_path=last`` takes the checkpoint's model hyperparameters as
the same file's path does; ``validate`` with ``--ckpt_path=last`` and no checkpoint is one error line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from lightning_helpers import ROOT, tiny_writer_fit
from metanet.errors import ConfigError
from metanet.train import _check_configs, cli_main


def test_a_config_under_home_is_read(tmp_path, monkeypatch, capsys):
    # was "metanet: error: config file ~/writer.yaml not found", though jsonargparse reads it
    monkeypatch.setenv("HOME", str(tmp_path))
    shutil.copy(ROOT / "train" / "writer.yaml", tmp_path / "writer.yaml")
    _check_configs(["fit", "--config=~/writer.yaml"])
    with pytest.raises(ConfigError, match=r"config file ~/missing\.yaml not found"):
        _check_configs(["fit", "--config=~/missing.yaml"])
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        cli_main(["fit", "--config=~/writer.yaml", "--model.init_args.hidden=8", "--print_config"])
    assert e.value.code in (0, None)
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["model"]["init_args"]["hidden"] == 8
    assert printed["data"]["init_args"]["steps_per_epoch"] == 100  # the file's own values


def _hparams(run: Path) -> dict:
    return yaml.safe_load((run / "hparams.yaml").read_text())


def test_ckpt_path_last_takes_the_checkpoints_hyperparameters_as_its_path_does(tmp_path):
    # fitted at hidden=8 / message=4; then validated and resumed with train/writer.yaml's own sizes (32 / 16).
    # A checkpoint file's path has LightningCLI take the file's model options; `last` kept the config's: a
    # "size mismatch for writer...." RuntimeError traceback where that file's path ran
    assert cli_main(tiny_writer_fit(tmp_path, max_steps=1)) == 0
    runs = tmp_path / "runs" / "writer"
    config_sizes = {"hidden": 32, "message": 16}
    validate = tiny_writer_fit(tmp_path, "--ckpt_path=last", max_steps=1, model=config_sizes)
    assert cli_main(["validate", *validate[1:]]) == 0
    fitted, validated = _hparams(runs / "version_0"), _hparams(runs / "version_1")
    assert (validated["hidden"], validated["message"]) == (8, 4), validated
    assert validated == fitted
    # the run's config.yaml keeps `last` as given: run again, it takes the newest last.ckpt again
    assert yaml.safe_load((runs / "version_1" / "config.yaml").read_text())["ckpt_path"] == "last"
    # a fit resumes from it as well, one step (an epoch) on
    assert cli_main(tiny_writer_fit(tmp_path, "--ckpt_path=last", "--data.init_args.steps_per_epoch=1", max_steps=2,
                                    model=config_sizes)) == 0
    assert (runs / "version_2" / "checkpoints" / "epoch=1-step=2.ckpt").is_file()
    assert _hparams(runs / "version_2") == fitted


@pytest.mark.parametrize("logger", [True, False])
def test_validate_with_ckpt_path_last_and_no_checkpoint_is_one_error_line(tmp_path, capsys, logger):
    # Lightning warned "there is no last checkpoint available" and scored the untrained writer, exit code 0
    args = tiny_writer_fit(tmp_path, "--ckpt_path=last", logger=logger)
    capsys.readouterr()
    assert cli_main(["validate", *args[1:]]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("metanet:")]
    where = tmp_path / "runs" / "writer" / "*" / "checkpoints" if logger else tmp_path / "checkpoints"
    assert err == [f"metanet: error: --ckpt_path last: no last checkpoint to validate (no last.ckpt in {where}); "
                   "give a checkpoint file, e.g. runs/writer/version_0/checkpoints/last.ckpt, or run 'metanet train "
                   "fit' first"], err
