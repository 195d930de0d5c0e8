"""What the Lightning stages' TensorBoard logging leaves behind in the process: their figures (the reader's accuracy
scatter and task confusion, the writer's accuracy vs refinement step) are drawn without pyplot, so a validation
neither switches the user's matplotlib backend nor closes, or piles up, figures; and the writer's other
LightningCLI subcommands on a fitted checkpoint."""

from __future__ import annotations

import warnings
from pathlib import Path

import lightning as L
import pytest
from lightning.pytorch.loggers import TensorBoardLogger

from tests.test_demo import _event_tags  # EventAccumulator over a run directory


def _trainer(tmp: Path, name: str) -> L.Trainer:
    return L.Trainer(accelerator="cpu", logger=TensorBoardLogger(str(tmp / "runs"), name=name),
                     enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False,
                     limit_val_batches=1)


def _reader(tiny_zoo: Path):
    from metanet.reader.lightning import ReaderDataModule, ReaderModule

    dm = ReaderDataModule(zoos=[str(tiny_zoo)], batch_size=8, max_nets=16, role_examples=64)
    return ReaderModule(tasks=["digits", "mnist"], hidden=8, layers=1, probes=4), dm


def _writer():
    from metanet.writer.lightning import EpisodeDataModule, WriterModule

    dm = EpisodeDataModule(bases=("digits",), tasks_per_step=1, shots_max=10, val_episodes=1, steps_per_epoch=1)
    return WriterModule(hidden=8, message=4, steps=2), dm


@pytest.fixture
def users_pyplot():
    """A process whose pyplot has its own backend and an open figure, as a notebook's (restored afterwards)."""
    import matplotlib
    import matplotlib.pyplot as plt

    before = matplotlib.get_backend()
    matplotlib.use("svg")  # non-interactive and always there; a notebook's would be its inline backend
    mine = plt.figure()
    yield mine
    plt.close("all")
    matplotlib.use(before)


def test_validation_figures_leave_the_users_pyplot_alone(tmp_path, tiny_zoo, users_pyplot):
    # both modules called matplotlib.use("Agg") before drawing: that switched the user's backend and closed every
    # figure they had open, at each validation
    import matplotlib
    import matplotlib.pyplot as plt

    for name, (module, dm) in (("reader", _reader(tiny_zoo)), ("writer", _writer())):
        for _ in range(2):  # the figures of a second validation neither pile up nor close the user's
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the untrained reader's "no checkpoint was given"
                _trainer(tmp_path, name).validate(module, dm)
            assert matplotlib.get_backend() == "svg", name
            assert plt.get_fignums() == [users_pyplot.number], (name, plt.get_fignums())
    # and the figures were still logged, one per validation run
    expected = {"reader": {"val/accuracy_scatter", "val/task_confusion"}, "writer": {"val/accuracy_vs_step"}}
    for name, figures in expected.items():
        runs = sorted((tmp_path / "runs" / name).glob("version_*"))
        assert len(runs) == 2, runs
        for run in runs:
            acc, tags = _event_tags(run)
            assert figures <= set(tags["images"]), (run, tags["images"])
            for t in figures:
                (image,) = acc.Images(t)
                assert image.encoded_image_string[:4] == b"\x89PNG" and image.width > 100, t


def test_writer_validate_test_and_predict_on_a_checkpoint(tmp_path, capsys):
    # `metanet train validate` scores a fitted checkpoint (its metrics and figure in a run of their own); the writer
    # has no test or predict stage: one error line each, never Lightning's MisconfigurationException traceback
    from lightning_helpers import tiny_writer_fit
    from metanet.train import cli_main

    fit = tiny_writer_fit(tmp_path, f"--trainer.logger.init_args.save_dir={tmp_path / 'runs'}", max_steps=1,
                          logger=None)
    assert cli_main(fit) == 0
    ckpt = tmp_path / "runs" / "writer" / "version_0" / "checkpoints" / "last.ckpt"
    assert cli_main(["validate", *fit[1:], f"--ckpt_path={ckpt}"]) == 0
    acc, tags = _event_tags(tmp_path / "runs" / "writer" / "version_1")
    assert {"val/loss", "val/query_acc", "val/query_acc_digits", "hp_metric"} <= set(tags["scalars"])
    assert [e.step for e in acc.Images("val/accuracy_vs_step")] == [0]
    assert acc.Scalars("hp_metric")[-1].value == acc.Scalars("val/query_acc")[-1].value
    for stage in ("test", "predict"):
        capsys.readouterr()
        assert cli_main([stage, *fit[1:], f"--ckpt_path={ckpt}"]) == 2
        err = [line for line in capsys.readouterr().err.strip().splitlines() if not line.startswith("INFO: ")]
        assert err == [f"metanet: error: 'metanet train {stage}' is not supported by WriterModule (it has no {stage} "
                       "stage); use 'metanet train validate' or 'metanet generate'"], err
