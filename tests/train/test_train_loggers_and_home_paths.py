"""Trainer options a Lightning user changes on ``metanet train``: several loggers at once (the stages' figures and
text go to every logger that takes them, not only the first), and a ``~`` in the logger's ``save_dir`` or in
``--ckpt_path``."""

from __future__ import annotations

import warnings
from pathlib import Path

import lightning as L
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

from lightning_helpers import tiny_writer_fit
from metanet.train import cli_main


def _images(run: Path) -> dict[str, list[int]]:
    """The steps of each image tag in the TensorBoard event files of ``run``."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run), size_guidance={"images": 0, "scalars": 0})
    acc.Reload()
    return {t: [e.step for e in acc.Images(t)] for t in acc.Tags()["images"]}


def test_writer_figures_reach_a_tensorboard_logger_listed_after_a_csv_logger(tmp_path):
    # the figures went to `self.logger` (the first logger) only: a CSVLogger listed first has no add_figure, so the
    # TensorBoard run of the same fit had its scalars but not one figure, without a word
    loggers = tmp_path / "loggers.yaml"
    loggers.write_text(
        "trainer:\n  logger:\n"
        f"    - class_path: lightning.pytorch.loggers.CSVLogger\n      init_args: {{save_dir: {tmp_path}, name: csv}}\n"
        f"    - class_path: lightning.pytorch.loggers.TensorBoardLogger\n"
        f"      init_args: {{save_dir: {tmp_path}, name: tb}}\n")
    assert cli_main(tiny_writer_fit(tmp_path, "-c", str(loggers), max_steps=1, logger=None)) == 0
    assert _images(tmp_path / "tb" / "version_0") == {"val/accuracy_vs_step": [0]}
    # the scalars reach both, as before
    header = (tmp_path / "csv" / "version_0" / "metrics.csv").read_text().splitlines()[0].split(",")
    assert "val/query_acc" in header
    assert (tmp_path / "writer.safetensors").is_file()


def test_reader_figures_reach_every_tensorboard_logger(tmp_path, tiny_zoo):
    from metanet.reader.lightning import ReaderDataModule, ReaderModule

    dm = ReaderDataModule(zoos=[str(tiny_zoo)], batch_size=8, max_nets=16, role_examples=64)
    module = ReaderModule(tasks=["digits", "mnist"], hidden=8, layers=1, probes=4)
    trainer = L.Trainer(accelerator="cpu", enable_progress_bar=False, enable_model_summary=False,
                        enable_checkpointing=False, limit_val_batches=1,
                        logger=[CSVLogger(str(tmp_path), name="csv"), TensorBoardLogger(str(tmp_path), name="tb1"),
                                TensorBoardLogger(str(tmp_path), name="tb2")])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Lightning's notes on the loaders, the reader's on metrics left undefined
        trainer.validate(module, datamodule=dm)
    for name in ("tb1", "tb2"):
        assert _images(tmp_path / name / "version_0") == {"val/accuracy_scatter": [0], "val/task_confusion": [0]}


def test_summary_writers_are_the_loggers_that_take_the_method(tmp_path):
    from metanet.train.stage import summary_writers
    from metanet.writer.lightning import WriterModule

    module = WriterModule(hidden=8, message=4)
    assert summary_writers(module) == []  # no trainer
    csv, tb = CSVLogger(str(tmp_path), name="csv"), TensorBoardLogger(str(tmp_path), name="tb")
    module.trainer = L.Trainer(accelerator="cpu", logger=[csv, tb], enable_progress_bar=False)
    assert summary_writers(module) == [tb.experiment]
    assert summary_writers(module, "add_text") == [tb.experiment]
    assert summary_writers(module, "no_such_method") == []
    module.trainer = L.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False)
    assert summary_writers(module) == []


def test_ckpt_path_last_finds_the_runs_of_a_save_dir_under_home(tmp_path, monkeypatch):
    # a save_dir of ~/runs was searched as ./~/runs: `--ckpt_path=last` found nothing, and the fit started from
    # scratch with Lightning's "no last checkpoint available" warning
    from metanet.train import _last_checkpoint

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    ckpt = tmp_path / "home" / "runs" / "writer" / "version_0" / "checkpoints" / "last.ckpt"
    ckpt.parent.mkdir(parents=True)
    ckpt.write_bytes(b"")  # only its name is looked at here
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    trainer = L.Trainer(accelerator="cpu", logger=TensorBoardLogger("~/runs", name="writer"),
                        enable_progress_bar=False)
    assert _last_checkpoint(trainer) == str(ckpt)


def test_a_ckpt_path_under_home_is_read(tmp_path, monkeypatch):
    # `--ckpt_path='~/...'` (quoted, or a YAML value: no shell expands it) was "not found" though the file was there
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cli_main(tiny_writer_fit(tmp_path, "--trainer.logger.init_args.save_dir=~/runs", max_steps=1,
                                    logger=None)) == 0
    ckpt = "~/runs/writer/version_0/checkpoints/last.ckpt"
    assert Path(ckpt).expanduser().is_file()
    args = ["validate" if a == "fit" else a
            for a in tiny_writer_fit(tmp_path, "--trainer.logger=false", max_steps=1, logger=None)]
    assert cli_main(args + [f"--ckpt_path={ckpt}"]) == 0
