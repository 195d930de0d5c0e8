"""What each training stage writes to TensorBoard, read back from its event file.

The three stages run through ``metanet train fit`` on the shipped configs (``train/*.yaml``: their TensorBoardLogger,
validation schedule and callbacks) at toy size, with the logger's ``save_dir`` in ``tmp_path``. Checked per stage:
the tags the README and issues promise are there with finite values; training curves have a point per optimisation
step and validation ones a point per validation run (the sanity check logs nothing); figures are PNG images at the
steps of the scalars they go with; ``hp_metric`` follows the stage's headline validation metric instead of staying
Lightning's -1 placeholder.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from lightning_helpers import tiny_loop_fit, tiny_writer_fit
from metanet.train import cli_main
from tests.test_demo import _event_tags  # EventAccumulator over a run directory (scalars and images kept whole)
from tests.train.test_train_cli import _reader_args

#: the promises (README "Training", the issues of each stage), as tags
READER_SCALARS = ("train/loss", "train/loss_accuracy", "train/loss_task", "train/loss_backdoor", "val/loss",
                  "val/loss_accuracy", "val/kendall_tau", "val/r2", "val/mae", "val/task_acc")
READER_FIGURES = ("val/accuracy_scatter", "val/task_confusion")
WRITER_SCALARS = ("train/loss", "train/query_acc", "val/loss", "val/query_acc", "val/query_acc_digits")
WRITER_FIGURES = ("val/accuracy_vs_step",)
LOOP_SCALARS = ("train/loss", "reward/mean", "reward/best_of_k", "reward/worst", "heldout/accuracy_best_of_k",
                "heldout/accuracy_k1", "heldout/accuracy_mean_candidate", "heldout/accuracy_oracle",
                "candidates/diversity", "candidates/winners_kept")


def _run_dir(tmp: Path) -> Path:
    (run,) = {p.parent for p in (tmp / "runs").rglob("events.out.tfevents.*")}  # one run, one event file
    return run


def _read(run: Path) -> tuple[dict[str, list[tuple[int, float]]], dict[str, list]]:
    acc, tags = _event_tags(run)
    scalars = {t: [(e.step, e.value) for e in acc.Scalars(t)] for t in tags["scalars"]}
    images = {t: acc.Images(t) for t in tags["images"]}
    return scalars, images


def _steps(scalars: dict, tag: str) -> list[int]:
    return [s for s, _ in scalars[tag]]


def _check(scalars: dict, images: dict, promised: tuple[str, ...], figures: tuple[str, ...], train: str, val: str,
           train_steps: list[int], val_steps: list[int], headline: str) -> None:
    missing = [t for t in promised + (train, val) if t not in scalars]
    assert not missing, f"promised tags not logged: {missing}; logged: {sorted(scalars)}"
    bad = {t: v for t, v in scalars.items() if not all(math.isfinite(x) for _, x in v)}
    assert not bad, f"non-finite values: {bad}"
    # per step / per validation run, never the other way round, and nothing from the sanity check
    assert _steps(scalars, train) == train_steps, scalars[train]
    for t in promised:
        group = train_steps if t.startswith(("train/", "reward/", "candidates/")) else val_steps
        assert _steps(scalars, t) == group, (t, scalars[t])
    for t in figures:
        assert t in images, f"figure {t} not logged; images: {sorted(images)}"
        assert [e.step for e in images[t]] == val_steps, (t, [e.step for e in images[t]])
        for e in images[t]:
            assert e.encoded_image_string[:4] == b"\x89PNG" and e.width > 100 and e.height > 100, t
    # hp_metric: Lightning's -1 placeholder when the hyperparameters are logged, then the headline metric
    hp = scalars["hp_metric"]
    assert hp[0] == (0, -1.0)
    assert hp[1:] == scalars[headline], (hp, scalars[headline])


def test_reader_stage_logs_what_it_promises(tmp_path, tiny_zoo):
    # two steps (one batch an epoch), validated after each; the config's sanity check runs first
    args = _reader_args("fit", tmp_path, tiny_zoo) + [
        "--data.init_args.max_nets=32", "--trainer.max_steps=2", "--trainer.max_time=null",
        "--trainer.log_every_n_steps=1", "--trainer.val_check_interval=1", "--trainer.limit_val_batches=1",
        "--trainer.enable_model_summary=false"]
    assert cli_main(args) == 0
    run = _run_dir(tmp_path)
    scalars, images = _read(run)
    _check(scalars, images, READER_SCALARS, READER_FIGURES, "train/loss", "val/loss", [0, 1], [0, 1],
           "val/kendall_tau")
    # train and val losses share their names: train/loss_X is val/loss_X's training counterpart
    assert {t[len("train/"):] for t in scalars if t.startswith("train/loss")} == \
        {t[len("val/"):] for t in scalars if t.startswith("val/loss")}
    # ModelCheckpoint (train/reader.yaml: monitor val/loss) saved the best and the last model
    names = {p.name for p in (run / "checkpoints").glob("*.ckpt")}
    assert "last.ckpt" in names and len(names) >= 2, names


def test_reader_logs_backdoor_auroc_when_validation_holds_backdoors(tmp_path, tiny_zoo):
    # the tiny zoo has no backdoored networks (AUROC is undefined there and skipped): half of the val networks are
    # labelled backdoored here, so the val split has both classes as the backdoor zoo's does
    import lightning as L
    from lightning.pytorch.loggers import TensorBoardLogger

    from metanet.reader.lightning import ReaderDataModule, ReaderModule

    dm = ReaderDataModule(zoos=[str(tiny_zoo)], batch_size=8, max_nets=16, role_examples=64)
    dm.setup("fit")
    dm.val_graphs = [g.clone() for g in dm.val_graphs]
    for i, g in enumerate(dm.val_graphs):
        g.y_backdoor = torch.full_like(g.y_backdoor, float(i % 2))
    # the task head's tasks given, the data's left to the zoos' (tasks=None): the loggers' hyperparameters used to
    # hold both under one key, and Lightning refused to merge them ("Error while merging hparams")
    module = ReaderModule(tasks=["digits", "mnist"], hidden=8, layers=1, probes=4)
    logger = TensorBoardLogger(str(tmp_path / "runs"), name="reader")
    L.Trainer(max_epochs=1, limit_train_batches=1, accelerator="cpu", logger=logger, enable_progress_bar=False,
              enable_model_summary=False, enable_checkpointing=False, num_sanity_val_steps=0,
              log_every_n_steps=1).fit(module, dm)
    scalars, images = _read(_run_dir(tmp_path))
    assert "val/backdoor_auroc" in scalars, sorted(scalars)
    assert all(0.0 <= v <= 1.0 for _, v in scalars["val/backdoor_auroc"])
    assert set(READER_FIGURES) <= set(images)


def test_writer_stage_logs_what_it_promises(tmp_path):
    # two refinement passes, so the accuracy-vs-step figure has a curve; one step an epoch, validated each epoch
    args = tiny_writer_fit(tmp_path, f"--trainer.logger.init_args.save_dir={tmp_path / 'runs'}",
                           "--trainer.max_steps=2", "--trainer.log_every_n_steps=1", "--model.init_args.steps=2",
                           "--data.init_args.val_episodes=2", max_steps=1, logger=None)
    assert cli_main(args) == 0
    scalars, images = _read(_run_dir(tmp_path))
    _check(scalars, images, WRITER_SCALARS, WRITER_FIGURES, "train/loss", "val/query_acc", [0, 1], [0, 1],
           "val/query_acc")
    for t in ("val/query_acc", "val/query_acc_digits", "train/query_acc"):
        assert all(0.0 <= v <= 1.0 for _, v in scalars[t]), t


def test_loop_stage_logs_what_it_promises(tmp_path):
    # one round an epoch, so the held-out tasks are scored after every round
    assert cli_main(tiny_loop_fit(tmp_path, "--data.init_args.rounds_per_epoch=1", max_steps=2)) == 0
    scalars, images = _read(_run_dir(tmp_path))
    _check(scalars, images, LOOP_SCALARS, (), "train/loss", "heldout/accuracy_best_of_k", [0, 1], [0, 1],
           "heldout/accuracy_best_of_k")
    for (_, worst), (_, mean), (_, best) in zip(scalars["reward/worst"], scalars["reward/mean"],
                                                scalars["reward/best_of_k"]):
        assert worst <= mean <= best
    assert all(0.0 <= v <= 1.0 for _, v in scalars["candidates/diversity"])
    assert all(v == 1.0 for _, v in scalars["candidates/winners_kept"])  # keep 1 of 1 task a round
    for t in ("heldout/accuracy_best_of_k", "heldout/accuracy_mean_candidate"):  # the best on test bounds both
        assert all(v <= o for (_, v), (_, o) in zip(scalars[t], scalars["heldout/accuracy_oracle"])), t
