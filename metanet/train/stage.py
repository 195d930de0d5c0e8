"""What the reader, writer and loop :class:`~lightning.LightningModule` s share: the TensorBoard step of a figure,
the fit-end export and its check at setup, a skipped step under DDP, and where a resumed fit stands.
"""

from __future__ import annotations

from typing import Any, Callable

import lightning as L
from torch import Tensor

__all__ = ["figure_step", "export_at_fit_end", "fit_position", "check_export", "skip_step"]


def figure_step(module: L.LightningModule) -> int | None:
    """The TensorBoard step of a figure drawn as validation ends, or None when none should be drawn (the sanity
    check before training, whose ``self.log`` values Lightning drops too). It is the step Lightning gives the
    metrics logged with it (the optimisation steps taken, as its loggers count them, as Lightning's own
    LearningRateMonitor does): ``global_step`` is one ahead of them when validation runs as a training batch ends,
    and the sanity check's figure sat at step 0 beside no scalar."""
    if module._trainer is None:
        return module.global_step
    t = module.trainer
    if t.sanity_checking:
        return None
    return int(t.fit_loop.epoch_loop._batches_that_stepped)


def export_at_fit_end(module: L.LightningModule, save: Callable[[str], Any]) -> bool:
    """``save(module.hparams.export)`` when a fit ends, on rank 0, if an export path is set: the one fit-end export
    of the reader, writer and loop modules. Not after a ``fast_dev_run``: that smoke test (Lightning turns off its
    checkpoints and logs) used to overwrite an earlier run's real export with a model of a step or two; it now
    warns that it did not write instead. True if the file was written."""
    path = module.hparams.get("export")
    if not path or module.global_rank != 0:
        return False
    if module._trainer is not None and module.trainer.fast_dev_run:
        from lightning.pytorch.utilities import rank_zero_warn

        rank_zero_warn(f"fast_dev_run: the trained {type(module).__name__} was not exported to {path} (a smoke-test "
                       "run writes no files; a file already there is left as it was)")
        return False
    save(path)
    return True


def fit_position(trainer: Any, per_epoch: int | None = None) -> tuple[int, int] | None:
    """``(epoch, batches of it already trained on)`` of the train iterator Lightning is making now, or None when the
    batches per epoch are unknown (``per_epoch``: the count to assume when Lightning has none).

    Counted from the training batches of the whole fit (restored with a checkpoint): Lightning's epoch counters are
    not that epoch while it restarts (a fit with ``max_steps`` resumed at an epoch's end first opens an iterator for
    the finished epoch, then one whose ``epoch_progress.processed`` is one ahead), and a checkpoint taken mid-epoch
    resumes from the epoch's first batch."""
    loop = getattr(trainer, "fit_loop", None) if trainer is not None else None
    if loop is None:
        return None
    limits = getattr(getattr(loop, "_combined_loader", None), "limits", None)  # limit_train_batches applied
    n = limits[0] if limits else per_epoch
    if not isinstance(n, int) or n < 1:
        return None
    done = int(loop.epoch_loop.batch_progress.total.ready)
    return done // n, done % n


def check_export(module: L.LightningModule) -> None:
    """Check ``module.hparams.export`` as a fit starts (every rank: all stop alike): an existing directory, or a path
    under a file, failed only when the fit ended, in :func:`export_at_fit_end`, after all the training (an
    ``IsADirectoryError``, nothing exported).

    Raises:
        ConfigError: naming the path and what would be valid.
    """
    path = module.hparams.get("export")
    if path:
        from metanet.cli import out_file

        out_file(path, flag="model.export", example="model.safetensors")


def skip_step(module: L.LightningModule) -> Tensor | None:
    """What ``training_step`` returns for a batch with nothing to learn from (every episode degenerate, every
    candidate broken): None, so Lightning skips the step, on one process. Under DDP Lightning refuses None ("Skipping
    the `training_step` by returning None in distributed training is not supported", the whole run ended) and the
    other processes would wait for this one's gradients: a zero loss on every trainable parameter instead, so this
    process contributes zero gradients to the step the others take (their gradients are averaged with its zeros)."""
    if module._trainer is None or module.trainer.world_size <= 1:
        return None
    params = [p for p in module.parameters() if p.requires_grad]
    return 0.0 * sum(p.reshape(-1)[0] for p in params) if params else None
