"""Lightning Trainer options users pass to ``metanet train`` (``--trainer.precision``, ``accumulate_grad_batches``,
``gradient_clip_val`` / ``gradient_clip_algorithm``, ``enable_checkpointing``, ``barebones``) on the shipped configs, at
toy size: each works as Lightning documents it or is refused with one error line naming the option, never a traceback
from inside a module's step."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest

from lightning_helpers import tiny_loop_fit, tiny_writer_fit
from metanet.errors import ConfigError
from metanet.train import cli_main
from metanet.train.stage import check_precision
from metanet.writer.lightning import EpisodeDataModule, WriterModule

ROOT = Path(__file__).resolve().parents[2]


def _reader(tmp: Path, zoo: Path, *extra: str) -> list[str]:
    return ["fit", "-c", str(ROOT / "train" / "reader.yaml"), "--trainer.max_steps=1",
            "--trainer.enable_progress_bar=false", f"--trainer.default_root_dir={tmp}",
            f"--trainer.logger.init_args.save_dir={tmp / 'runs'}", f"--model.init_args.export={tmp / 'r.safetensors'}",
            f"--data.init_args.zoos=[{zoo}]", "--data.init_args.max_nets=8", "--data.init_args.exclude_archs=[]",
            "--model.init_args.hidden=8", "--model.init_args.layers=1", *extra]


def _error_lines(capsys) -> list[str]:
    # Lightning's own INFO log lines (seed, accelerators) reach stderr when nothing configured logging before
    return [line for line in capsys.readouterr().err.strip().splitlines() if not line.startswith("INFO: ")]


def _float32_only(precision: str, module: str) -> str:
    return (f"metanet: error: --trainer.precision={precision}: {module} computes in float32 only; supported: 32-true "
            "(the default; also written 32)")


# 16-mixed: Lightning runs it as bf16-mixed on a CPU (and warns that it does)
@pytest.mark.parametrize("precision, runs_as", [("bf16-mixed", "bf16-mixed"), ("16-mixed", "bf16-mixed"),
                                                ("64-true", "64-true"), ("bf16-true", "bf16-true")])
def test_a_precision_other_than_float32_is_one_error_line(tmp_path, capsys, precision, runs_as):
    # the writer's ridge solves under bf16 autocast were numpy's "Got unsupported ScalarType BFloat16" from inside
    # the first training step, 64-true and bf16-true Lightning's "A frozen dataclass was passed to
    # apply_to_collection"; the loop trains the same writer
    for args, module in ((tiny_writer_fit(tmp_path, f"--trainer.precision={precision}"), "WriterModule"),
                         (tiny_loop_fit(tmp_path, f"--trainer.precision={precision}", max_steps=2), "LoopModule")):
        capsys.readouterr()
        assert cli_main(args) == 2, module
        assert _error_lines(capsys) == [_float32_only(runs_as, module)]
    assert not list(tmp_path.rglob("*.safetensors")) and not list(tmp_path.rglob("*.ckpt"))


def test_the_reader_refuses_mixed_precision_too(tmp_path, tiny_zoo, capsys):
    # was "addmm_out_sparse_csr_impl_mkl not implemented for 'BFloat16'" from the reader's message passing
    capsys.readouterr()
    assert cli_main(_reader(tmp_path, tiny_zoo, "--trainer.precision=bf16-mixed")) == 2
    assert _error_lines(capsys) == [_float32_only("bf16-mixed", "ReaderModule")]


def test_the_modules_refuse_it_without_the_cli_too(tmp_path):
    data = EpisodeDataModule(bases=("digits",), tasks_per_step=1, shots_max=10, val_episodes=1, steps_per_epoch=1)
    trainer = L.Trainer(precision="bf16-mixed", accelerator="cpu", max_steps=1, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                        default_root_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"^--trainer\.precision=bf16-mixed: WriterModule computes in float32 only"):
        trainer.fit(WriterModule(hidden=8, message=4), data)
    for precision in (32, "32", "32-true"):  # float32, however it is written
        check_precision(WriterModule(hidden=8, message=4), L.Trainer(precision=precision, logger=False))


def test_the_loop_refuses_gradient_accumulation(tmp_path, capsys):
    # a round is one step: its tasks and seeds are indexed by the step, so accumulated rounds drew the same seeds
    # and each epoch after the first trained again on tasks of the one before, silently
    capsys.readouterr()
    assert cli_main(tiny_loop_fit(tmp_path, "--trainer.accumulate_grad_batches=2", max_steps=2)) == 2
    err = _error_lines(capsys)
    assert len(err) == 1 and err[0].startswith("metanet: error: --trainer.accumulate_grad_batches=2: a LoopModule "
                                               "round is one optimisation step"), err
    assert "data.tasks_per_round" in err[0]
    assert not (tmp_path / "loop.safetensors").exists()


@pytest.mark.parametrize("flag", ["--trainer.gradient_clip_algorithm=value", "--trainer.gradient_clip_val=0"])
def test_the_writer_takes_the_trainers_clipping_options(tmp_path, flag):
    # the writer forced clip_gradients(norm, `val or 1.0`): Lightning's "Please use only one of them" traceback at
    # the first step for clipping by value, and for gradient_clip_val=0 (clipping off, as Lightning documents it)
    assert cli_main(tiny_writer_fit(tmp_path, flag)) == 0
    assert (tmp_path / "writer.safetensors").is_file()


def test_checkpointing_off_leaves_out_the_configs_checkpoint_callbacks(tmp_path):
    # train/writer.yaml's ModelCheckpoint made Lightning's Trainer raise "Trainer was configured with
    # `enable_checkpointing=False` but found `ModelCheckpoint` in callbacks list" (a traceback, before any step)
    assert cli_main(tiny_writer_fit(tmp_path, "--trainer.enable_checkpointing=false")) == 0
    assert (tmp_path / "writer.safetensors").is_file()
    assert not list(tmp_path.rglob("*.ckpt"))


# --- --trainer.barebones=true -----------------------------------------------------------------------------------------


def test_barebones_leaves_out_the_configs_logger_and_checkpoints(tmp_path):
    from metanet.train import cli_main

    # was Lightning's "`Trainer(barebones=True, logger=<...TensorBoardLogger ...>)` was passed" ValueError traceback
    assert cli_main(tiny_writer_fit(tmp_path, "--trainer.barebones=true", quiet=False)) == 0
    assert (tmp_path / "writer.safetensors").is_file()
    assert not (tmp_path / "runs").exists() and not list(tmp_path.rglob("*.ckpt"))  # no logs, no checkpoints


@pytest.mark.parametrize("flag, line", [
    ("--trainer.fast_dev_run=true", "turns off development run, but --trainer.fast_dev_run=true was given too"),
    ("--trainer.enable_progress_bar=true",
     "turns off the progress bar, but --trainer.enable_progress_bar=true was given too"),
    ("--trainer.profiler=simple", "turns off profiling, but --trainer.profiler=simple was given too"),
])
def test_barebones_with_an_option_it_turns_off_is_one_error_line(tmp_path, capsys, flag, line):
    from metanet.train import cli_main

    assert cli_main(tiny_writer_fit(tmp_path, "--trainer.barebones=true", flag, quiet=False)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"metanet: error: --trainer.barebones=true {line}; drop one of them", err[-3:]
    assert not (tmp_path / "writer.safetensors").exists()
