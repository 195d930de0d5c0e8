"""``metanet train`` subcommands on the shipped configs, at toy size: resuming with ``--ckpt_path=last``, the
``test`` and ``predict`` stages, and usage errors (a bad flag or value) as one error line, not jsonargparse's ~50-line
usage."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch

from lightning_helpers import tiny_loop_fit, tiny_writer_fit
from metanet.train import cli_main

ROOT = Path(__file__).resolve().parents[2]
LOOP = str(ROOT / "train" / "loop.yaml")


def _writer_of(ckpt: Path) -> dict[str, torch.Tensor]:
    state = torch.load(ckpt, map_location="cpu", weights_only=True)  # as metanet reads them: never unpickled
    return {k: v for k, v in state["state_dict"].items() if k.startswith("writer.")} | {"step": state["global_step"]}


def test_fit_ckpt_path_last_resumes_the_latest_run(tmp_path):
    # train/loop.yaml's TensorBoardLogger gives every run a new version directory: Lightning's own "last" looked
    # only in the new (empty) one, warned, and trained from scratch
    assert cli_main(tiny_loop_fit(tmp_path / "a", max_steps=3)) == 0
    assert cli_main(tiny_loop_fit(tmp_path / "b")) == 0  # "killed" after its first round
    # another seed: only the restored weights (not a fresh initialisation) can give the uninterrupted run's
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert cli_main(tiny_loop_fit(tmp_path / "b", "--ckpt_path=last", "--seed_everything=1", max_steps=3)) == 0
    assert not [w for w in caught if "no last checkpoint" in str(w.message)]
    full = _writer_of(tmp_path / "a" / "runs" / "loop" / "version_0" / "checkpoints" / "last.ckpt")
    resumed = _writer_of(tmp_path / "b" / "runs" / "loop" / "version_1" / "checkpoints" / "last.ckpt")
    assert full["step"] == resumed["step"] == 3
    for k in full:
        assert torch.allclose(torch.as_tensor(full[k]), torch.as_tensor(resumed[k]), atol=1e-6), k


def _reader_args(stage: str, tmp: Path, zoo: Path) -> list[str]:
    return [stage, "-c", str(ROOT / "train" / "reader.yaml"), "--trainer.enable_progress_bar=false",
            f"--trainer.default_root_dir={tmp}", f"--trainer.logger.init_args.save_dir={tmp / 'runs'}",
            f"--model.init_args.export={tmp / 'reader.safetensors'}", f"--data.init_args.zoos=[{zoo}]",
            "--data.init_args.max_nets=16", "--data.init_args.exclude_archs=[]", "--model.init_args.hidden=8",
            "--model.init_args.layers=1"]


def test_reader_test_stage_scores_the_test_split(tmp_path, tiny_zoo, capsys):
    # the data module loads a test split; `metanet train test` crashed: "No `test_step()` method defined"
    assert cli_main(_reader_args("test", tmp_path, tiny_zoo)) == 0
    out = capsys.readouterr().out
    assert "test/loss" in out and "test/kendall_tau" in out and "val/" not in out


def test_stages_a_module_does_not_have_are_one_error_line(tmp_path, tiny_zoo, capsys):
    for args, who in ((_reader_args("predict", tmp_path, tiny_zoo), "ReaderDataModule"),
                      (["test" if a == "fit" else a for a in tiny_loop_fit(tmp_path)], "LoopModule"),
                      (["predict" if a == "fit" else a for a in tiny_loop_fit(tmp_path)], "LoopModule")):
        capsys.readouterr()
        assert cli_main(args) == 2, args[0]
        # Lightning's own INFO log lines (seed, accelerators) reach stderr when nothing configured logging before
        # (this test run alone): they are not part of the error
        err = [line for line in capsys.readouterr().err.strip().splitlines() if not line.startswith("INFO: ")]
        assert len(err) == 1 and err[0].startswith("metanet: error: ") and who in err[0], err


def test_writer_run_config_can_be_run_again(tmp_path):
    # LightningCLI saves each run's config.yaml to re-run it; StochasticWeightAveraging's default device (a
    # torch.device) was saved as "Unable to serialize instance cpu", and a fit from that file crashed when SWA began
    save_dir = f"--trainer.logger.init_args.save_dir={tmp_path / 'runs'}"
    assert cli_main(tiny_writer_fit(tmp_path, save_dir, max_steps=1, logger=None)) == 0
    saved = (tmp_path / "runs" / "writer" / "version_0" / "config.yaml").read_text()
    assert "Unable to serialize" not in saved


def test_writer_fits_without_a_logger(tmp_path):
    # train/writer.yaml's LearningRateMonitor raised "Cannot use `LearningRateMonitor` callback with `Trainer` that
    # has no logger" once training started
    assert cli_main(tiny_writer_fit(tmp_path, "--trainer.logger=false", max_steps=1, logger=None)) == 0
    assert (tmp_path / "writer.safetensors").is_file()


def test_a_missing_config_file_is_one_error_line(tmp_path, monkeypatch, capsys):
    # from an installed package (pip install . or a wheel) there is no train/ folder: jsonargparse printed its
    # whole usage (~90 lines) before "File does not exist"; now one line saying where the configs are
    monkeypatch.chdir(tmp_path)
    for args in (["fit", "-c", "train/writer.yaml"], ["fit", "--config=train/writer.yaml"]):
        assert cli_main(args) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0, err
        assert err.startswith("metanet: error: config file train/writer.yaml not found")
        assert "files of the metanet repository" in err and "checkout" in err
    assert cli_main(["fit", "-c", "mine.yaml"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"metanet: error: config file mine.yaml not found (in {tmp_path})"


def test_config_check_leaves_inline_and_existing_configs_to_lightning(tmp_path):
    from metanet.train import _check_configs

    (tmp_path / "ok.yaml").write_text("seed_everything: 0\n")
    _check_configs(["fit", "-c", str(tmp_path / "ok.yaml")])
    _check_configs(["fit", "--config", "seed_everything: 1"])  # inline YAML: jsonargparse's to parse
    _check_configs(["fit", "--config", "trainer:\n  max_steps: 1\n"])
    _check_configs(["fit", "-c"])  # no value: jsonargparse's own error


def _usage_error(args: list[str], capsys, debug: bool = False) -> list[str]:
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        cli_main(args, debug=debug)
    assert e.value.code == 2, args
    captured = capsys.readouterr()
    assert not captured.out.strip(), captured.out
    return [line for line in captured.err.strip().splitlines() if not line.startswith("INFO: ")]


@pytest.mark.parametrize("flag, needles", [
    ("--trainer.bogus=1", ["unrecognized arguments: --trainer.bogus=1"]),
    ("--trainer.max_epochs=abc", ["--trainer.max_epochs", "expected int", "'abc'"]),
    ("--seed_everything=abc", ["--seed_everything", "expected bool or int", "'abc'"]),
    ("--model.init_args.hidden=x", ["--model.init_args.hidden", "expected int", "'x'",
                                    "metanet.loop.lightning.LoopModule"]),
    ("--model.init_args.nope=1", ["--model", "option 'nope' is not accepted"]),
    ("--trainer.logger.init_args.bogus=1", ["--trainer.logger", "option 'bogus' is not accepted"]),
    ("--model=NoSuchModule", ["--model", "NoSuchModule"]),
    ("--trainer.max_epochs", ["--trainer.max_epochs: expected one argument"]),
])
def test_a_bad_flag_or_value_is_a_short_error(flag, needles, capsys):
    # jsonargparse printed the whole usage of `fit` (~50 lines), a tip, then a multi-line error
    err = _usage_error(["fit", "-c", LOOP, flag], capsys)
    assert len(err) == 1, err
    assert err[0].startswith("metanet train fit: error: "), err
    for needle in needles:
        assert needle in err[0], (needle, err)
    assert "Subtypes" not in err[0] and "<class" not in err[0] and "NestedArg" not in err[0]
    assert err[0].endswith(" (options: 'metanet train fit --help')"), err


def test_subcommand_errors_are_short_too(capsys):
    err = _usage_error(["fitt"], capsys)
    assert len(err) == 1 and err[0].startswith("metanet train: error: ") and "'fitt'" in err[0], err
    assert err[0].endswith(" (options: 'metanet train --help')"), err
    err = _usage_error([], capsys)
    assert len(err) == 1 and "subcommand" in err[0], err


def test_help_is_still_the_full_help(capsys):
    with pytest.raises(SystemExit) as e:
        cli_main(["fit", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: metanet train") and "--trainer.max_epochs" in out and out.count("\n") > 50


def test_debug_keeps_jsonargparses_full_error(capsys):
    err = _usage_error(["fit", "-c", LOOP, "--trainer.max_epochs=abc"], capsys, debug=True)
    assert err[0].startswith("usage: metanet train") and len(err) > 10


def test_the_metanet_cli_exits_2_with_the_short_error(capsys):
    from metanet.cli import main

    with pytest.raises(SystemExit) as e:
        main(["train", "fit", "-c", LOOP, "--trainer.bogus=1"])
    assert e.value.code == 2
    err = [line for line in capsys.readouterr().err.strip().splitlines() if not line.startswith("INFO: ")]
    assert len(err) == 1 and "--trainer.bogus=1" in err[0], err
