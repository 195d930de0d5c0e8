"""What the reader, writer and loop :class:`~lightning.LightningModule` s share: the TensorBoard step of a figure
and the loggers it goes to, the fit-end export and its check at setup, a skipped step, SIGTERM and the training
logs' sums under DDP, where a resumed fit stands (and the validation it was saved before), the checkpoint callback
of the writer's and reader's configs (:class:`ResumableCheckpoint`), the check of a bool option, and of the trainer's
precision, and the saved hyperparameters as plain Python numbers.
"""

from __future__ import annotations

from typing import Any, Callable, MutableMapping, Sequence

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint
from torch import Tensor

__all__ = ["figure_step", "summary_writers", "export_at_fit_end", "debug_run", "check_monitors", "fit_position",
           "check_export", "check_flag", "skip_step", "ddp_sigterm", "ddp_sigterm_agreed", "validate_on_resume",
           "check_precision", "plain_hparams", "own_options", "options", "summed_over_processes",
           "ResumableCheckpoint"]


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


def summary_writers(module: L.LightningModule, method: str = "add_figure") -> list[Any]:
    """The experiments of the trainer's loggers that take ``method`` (TensorBoard's SummaryWriter API:
    ``add_figure``, ``add_text``): where the stages' figures and text go, to each such logger. Every logger, not
    only ``module.logger`` (the first): with ``logger: [CSVLogger, TensorBoardLogger]`` the figures were silently
    dropped, the CSV logger's experiment having no ``add_figure``. Empty without a trainer or logger."""
    if module._trainer is None:
        return []
    found = []
    for logger in module.trainer.loggers:
        exp = getattr(logger, "experiment", None)
        if exp is not None and hasattr(exp, method):
            found.append(exp)
    return found


def export_at_fit_end(module: L.LightningModule, save: Callable[[str], Any]) -> bool:
    """``save(export)`` (the module's option, :func:`options`) when a fit ends, on rank 0, if an export path is set:
    the one fit-end export of the reader, writer and loop modules. Not after a ``fast_dev_run`` or
    ``overfit_batches`` run (:func:`debug_run`): that smoke test (Lightning turns off its checkpoints and logs) used
    to overwrite an earlier run's real export with a model of a step or two, and an overfitting run with a model
    fitted to a batch or two; it now warns that it did not write instead. True if the file was written."""
    path = options(module).get("export")
    if not path or module.global_rank != 0:
        return False
    if (debug := debug_run(module)) is not None:
        from lightning.pytorch.utilities import rank_zero_warn

        kind = "a smoke-test run writes no files" if debug == "fast_dev_run" else "an overfitting run exports nothing"
        rank_zero_warn(f"{debug}: the trained {type(module).__name__} was not exported to {path} ({kind}; a file "
                       "already there is left as it was)")
        return False
    save(path)
    return True


def debug_run(module: L.LightningModule) -> str | None:
    """The Trainer option that makes this fit a debugging run (``fast_dev_run``, ``overfit_batches``), or None:
    such a run trains on a batch or two (``overfit_batches`` on the same ones every epoch) and exports nothing."""
    t = module._trainer
    if t is None:
        return None
    if t.fast_dev_run:
        return "fast_dev_run"
    if t.overfit_batches:  # 0 / 0.0: off
        return f"overfit_batches={t.overfit_batches}"
    return None


def check_monitors(module: L.LightningModule, logged: Sequence[str]) -> None:
    """Refuse, as a fit starts, an EarlyStopping or ModelCheckpoint callback whose ``monitor`` is no metric the module
    logs (``logged``: its names, ``fnmatch`` patterns for the per-data-set ones). Lightning raised only where it first
    looked the metric up, at the end of the first epoch's validation (a traceback, the epoch's training lost).

    Raises:
        ConfigError: naming the callback, the metric and the module's metrics.
    """
    from fnmatch import fnmatchcase

    from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint

    if not type(module).__module__.startswith("metanet."):  # a user's subclass may log metrics of its own
        return
    t = module._trainer
    callbacks = t.callbacks if t is not None else []
    if any(isinstance(cb, LearningRateMonitor) for cb in callbacks):  # its lr-AdamW (and -momentum) are metrics too
        logged = (*logged, "lr-*")
    for cb in callbacks:
        monitor = getattr(cb, "monitor", None) if isinstance(cb, (EarlyStopping, ModelCheckpoint)) else None
        # Lightning gives a ModelCheckpoint "step" and "epoch" to monitor as well (the latest-checkpoint pattern)
        also = ("step", "epoch") if isinstance(cb, ModelCheckpoint) else ()
        if monitor is None or monitor in also or any(fnmatchcase(monitor, p) for p in logged):
            continue
        from metanet.errors import ConfigError

        raise ConfigError(f"--trainer.callbacks: {type(cb).__name__} monitors {monitor!r}, which "
                          f"{type(module).__name__} never logs; its metrics: {', '.join(logged)}")


def fit_position(trainer: Any, per_epoch: int | None = None, done: int | None = None) -> tuple[int, int] | None:
    """``(epoch, batches of it already trained on)`` of the train iterator Lightning is making now, or None when the
    batches per epoch are unknown (``per_epoch``: the count to assume when Lightning has none; ``done``: the
    training batches of the whole fit so far, when Lightning's own count is not restored yet).

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
    done = int(loop.epoch_loop.batch_progress.total.ready) if done is None else done
    return done // n, done % n


def check_export(module: L.LightningModule) -> None:
    """Check the module's ``export`` option as a fit starts (every rank: all stop alike): an existing directory, or
    a path under a file, failed only when the fit ended, in :func:`export_at_fit_end`, after all the training (an
    ``IsADirectoryError``, nothing exported).

    Raises:
        ConfigError: naming the path and what would be valid.
    """
    path = options(module).get("export")
    if path:
        from metanet.cli import out_file

        out_file(path, flag="model.export", example="model.safetensors")


def plain_hparams(module: L.LightningModule | L.LightningDataModule) -> None:
    """Make the saved hyperparameters plain Python numbers (also in lists, tuples and dicts): numpy and one-element
    torch integers (the size options take them, :func:`~metanet.errors.as_index`) and numpy scalars. Kept raw, they
    made a checkpoint ``torch.load(weights_only=True)`` refuses and an ``hparams.yaml`` of ``!!python/object`` tags
    that Lightning's loader cannot read. Call it right after ``save_hyperparameters()``."""
    for hparams in (module._hparams, getattr(module, "_hparams_initial", None)):
        if hparams is not None:
            for k, v in hparams.items():
                hparams[k] = _plain(v)


def _plain(v: Any) -> Any:
    """``v`` with numpy and one-element torch integers and numpy scalars as Python numbers (see plain_hparams)."""
    from metanet.errors import as_index

    if v is None or type(v) in (bool, int, float, str):  # type(): np.float64 is a float subclass
        return v
    if isinstance(v, (list, tuple)):
        return type(v)(_plain(x) for x in v)
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if (i := as_index(v)) is not None:
        return i
    if type(v).__module__ == "numpy" and getattr(v, "ndim", None) == 0:  # a numpy float or bool scalar
        return v.item()
    return v


def own_options(module: L.LightningModule | L.LightningDataModule, cls: type,
                given: dict[str, Any]) -> MutableMapping[str, Any]:
    """The options ``cls.__init__`` received (``given``: a copy of its ``locals()`` taken first thing), plain as
    :func:`plain_hparams` makes the saved ones: what a stage reads its options from, kept as ``module._options``.
    Not ``module.hparams`` for a subclass: under LightningCLI those are the arguments the CLI gave the subclass
    (its own, ``flavour`` but no ``zoo``), and a fit of ``class Mine(WriterModule)`` ended in "'AttributeDict'
    object has no attribute 'zoo'". The hparams themselves for ``cls`` itself: they are its arguments, and a
    ``module.hparams.export = ...`` set later still steers it. Call it right after ``save_hyperparameters()``: it
    makes the saved hparams plain first (:func:`plain_hparams`)."""
    plain_hparams(module)  # a numpy size as a Python int: a loadable checkpoint, a readable hparams.yaml
    if type(module) is cls:
        return module.hparams
    from lightning.fabric.utilities.data import AttributeDict

    return AttributeDict({k: _plain(v) for k, v in given.items() if k not in ("self", "__class__")})


def options(module: Any) -> MutableMapping[str, Any]:
    """A stage module's or data module's options (:func:`own_options`); the hparams of one that keeps none (a
    user's own data module)."""
    found = getattr(module, "_options", None)
    return module.hparams if found is None else found


def check_flag(name: str, value: Any) -> None:
    """Raise :class:`~metanet.errors.ConfigError` unless ``value`` is True or False: the one check of a stage's bool
    option. A string (``"no"`` from a YAML typo or a quoted CLI value) or a number was taken as truthy.

    Raises:
        ConfigError: naming the option and the valid values.
    """
    if not isinstance(value, bool):
        from metanet.errors import ConfigError

        raise ConfigError(f"{name} must be true or false, got {type(value).__name__} {value!r}")


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


def summed_over_processes(module: L.LightningModule, values: dict[str, float]) -> dict[str, float]:
    """Under DDP, from ``training_step``: each of ``values`` summed over every process, in one all_gather. Every
    process calls it at every step (a skipped one too) with the same keys in the same order. The stages send counts
    and count-weighted sums, so that they log means over all processes' examples (each process logged only its own,
    and TensorBoard showed process 0's); float64, so that counts add exactly."""
    import torch

    mine = torch.tensor([float(v) for v in values.values()], dtype=torch.float64, device=module.device)  # NCCL: device
    return dict(zip(values, module.all_gather(mine).reshape(-1, len(values)).sum(0).tolist()))


class _DdpSigterm:
    """The SIGTERM handler of a DDP fit's training (:func:`ddp_sigterm`): it only records the signal."""

    def __init__(self) -> None:
        self.received = False

    def __call__(self, signum: int, frame: Any) -> None:
        self.received = True


def ddp_sigterm(module: L.LightningModule) -> None:
    """From ``on_train_start``: under DDP, put a SIGTERM handler that only records the signal in place of Lightning's;
    :func:`ddp_sigterm_agreed` then has every process end the fit at the end of the same batch. Lightning's handler
    broadcasts a flag from rank 0 inside the handler: run on rank 1 while rank 0 waited for it in the gradient
    all-reduce (``timeout``, Slurm and a terminal signal every process at once), it waited for a broadcast rank 0 could
    not send before that all-reduce ended, and both processes waited for good. When the fit ends Lightning puts back
    the handler it found."""
    t = module._trainer
    if t is None or t.world_size <= 1:
        return
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():  # the only thread that may set a handler
        signal.signal(signal.SIGTERM, _DdpSigterm())


def ddp_sigterm_agreed(module: L.LightningModule) -> None:
    """From ``on_train_batch_end`` (every process at the same batch): under DDP, whether any process has received
    SIGTERM (one reduction of a flag, at a point every process reaches); if so, every process sets Lightning's own
    flag, and Lightning ends the fit at the end of this batch, as on one process (``metanet train`` exits 143)."""
    t = module._trainer
    if t is None or t.world_size <= 1:
        return
    import signal

    handler = signal.getsignal(signal.SIGTERM)
    received = (isinstance(handler, _DdpSigterm) and handler.received) or bool(t.received_sigterm)
    if t.strategy.reduce_boolean_decision(received, all=False):
        t._signal_connector.received_sigterm = True


def _validates_after(trainer: Any, epoch: int, in_epoch: int, in_fit: int, last: bool) -> bool | None:
    """Whether the fit validates after training batch ``in_epoch`` of ``epoch`` (``in_fit`` of the whole fit;
    ``last``: the epoch's last), as Lightning decides it; None when that depends on what is not known before the
    data is loaded (a fractional ``val_check_interval``) or on the clock."""
    if not trainer.enable_validation:
        return False
    if getattr(trainer, "_val_check_time_interval", None) is not None:  # max_time-style interval: the clock
        return None
    every, interval = trainer.check_val_every_n_epoch, trainer.val_check_interval
    if every is None:  # every `interval` batches of the whole fit
        return isinstance(interval, int) and in_fit % interval == 0
    if (epoch + 1) % every != 0:
        return False
    if last:
        return True
    if isinstance(interval, int):
        return in_epoch % interval == 0
    return None if interval < 1.0 else False


def validate_on_resume(module: L.LightningModule, checkpoint: dict[str, Any]) -> bool:
    """From ``on_load_checkpoint``: have a fit resumed from ``checkpoint`` run the validation it was saved before.

    A checkpoint saved as a training batch ended (``every_n_train_steps``: ``train/loop.yaml`` saves last.ckpt after
    every round) at a batch the fit validates after, such as an epoch's last, precedes that validation. Lightning
    resumed past it: the resumed fit's held-out metrics, and the checkpoints chosen by them, lacked the ones the
    uninterrupted fit has there. The checkpoint's progress is marked as Lightning marks one saved during that
    validation (the batch done, the validation begun), whose restart runs the validation again and then goes on as
    the uninterrupted fit did (the epoch's end, its hooks and the logged steps alike). True if it was marked.
    """
    trainer = module._trainer
    if trainer is None or trainer.state.fn != "fit":  # load_from_checkpoint, validate, test: nothing resumes
        return False
    loop = checkpoint.get("loops", {}).get("fit_loop", {})
    try:
        train, val = loop["epoch_loop.batch_progress"], loop["epoch_loop.val_loop.batch_progress"]
        total, current, vt = train["total"], train["current"], val["total"]
        # saved as a training batch ended: processed, not yet completed; and not during a validation (Lightning
        # runs that one again itself)
        if not total["ready"] == total["started"] == total["processed"] == total["completed"] + 1 \
                or vt["processed"] != vt["started"]:
            return False
        epoch = loop["epoch_progress"]["current"]["started"] - 1  # the epoch that batch belongs to
        due = _validates_after(trainer, epoch, current["processed"], total["processed"], bool(train["is_last_batch"]))
    except (KeyError, TypeError, AttributeError):  # another Lightning's layout: resumed as Lightning resumes it
        return False
    if not due:
        return False
    for progress in (total, current):
        progress["completed"] += 1
    val["current"].update(ready=1, started=1, processed=0, completed=0)  # its first batch begun: run from the start
    vt.update(ready=vt["processed"] + 1, started=vt["processed"] + 1, completed=vt["processed"])
    return True


# what Lightning's `trainer.precision` is for a float32 run ("32" and 32 are normalised to it)
_FLOAT32 = "32-true"


def check_precision(module: L.LightningModule, trainer: Any = None) -> None:
    """Refuse a ``trainer.precision`` other than float32 (``32-true``) for the reader, writer and loop modules, in
    every stage: they compute in float32 only. Under ``bf16-mixed`` (and ``16-mixed``, which Lightning runs as
    bf16 on a CPU) the writer's ridge solves and the reader's sparse message passing raised deep inside the step
    (numpy's "unsupported ScalarType BFloat16", "addmm_out_sparse_csr_impl_mkl not implemented for 'BFloat16'"),
    and ``64-true`` / ``bf16-true`` failed on the first batch (Lightning's "A frozen dataclass was passed to
    apply_to_collection") or named ``reader.float()``, not the option.

    Raises:
        ConfigError: naming the option, the precision given and the one supported.
    """
    trainer = trainer if trainer is not None else module._trainer
    precision = getattr(trainer, "precision", None) if trainer is not None else None
    if precision is None or str(precision) == _FLOAT32:
        return
    from metanet.errors import ConfigError

    raise ConfigError(f"--trainer.precision={precision}: {type(module).__name__} computes in float32 only; "
                      f"supported: {_FLOAT32} (the default; also written 32)")


def _epoch_ran_out(trainer: Any) -> bool:
    """Whether the training epoch has reached its last batch (not cut short by ``max_steps`` or a stop)."""
    progress = trainer.fit_loop.epoch_loop.batch_progress
    return bool(progress.is_last_batch) or progress.current.ready == trainer.num_training_batches


def _validates_next(trainer: Any) -> bool:
    """Whether Lightning validates after the training batch ending now (its own test, run again after this hook)."""
    loop = trainer.fit_loop
    return loop._data_fetcher is not None and bool(loop.epoch_loop._should_check_val_fx(loop._data_fetcher))


class ResumableCheckpoint(ModelCheckpoint):
    """Lightning's ``ModelCheckpoint`` (same arguments) for a fit that ``max_steps`` stops mid-epoch: Lightning still
    runs that epoch's end and records the epoch as finished, so a fit resumed from a checkpoint saved there took none
    of the epoch's remaining steps nor its validation (``--ckpt_path=last`` with a larger ``max_steps`` ended at once).
    Such an epoch's end saves nothing here; a callback without a monitor (``last.ckpt``) saves as the stopping step
    ends instead, as ``every_n_train_steps`` does: a fit resumed from it goes on mid-epoch, as an uninterrupted one.
    A monitoring one keeps its last validation's checkpoint (the epoch's end gave it that score for a later state).
    A stopping step the fit validates after (the reader's, twice an epoch) saves as that validation ends, as
    Lightning does (unless it saves at epochs' ends only): saved before it, last.ckpt held the monitoring callback's
    state without that validation's score, and the resumed fit's best checkpoint ignored it. It is saved there even
    when Lightning's own save at that validation's end skips the step (``every_n_train_steps``, ``every_n_epochs``):
    waiting for it, such a callback saved no checkpoint of the stopping step at all."""

    _stop_at_validation: int | None = None  # the stopping step saved as the validation after it ends

    def on_train_batch_end(self, trainer: Any, pl_module: L.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)
        stops = trainer.max_steps != -1 and trainer.global_step >= trainer.max_steps
        if self.monitor is None and stops and not _epoch_ran_out(trainer) \
                and not self._should_skip_saving_checkpoint(trainer):
            if _validates_next(trainer) and not self._should_save_on_train_epoch_end(trainer):
                self._stop_at_validation = trainer.global_step
            else:
                self._save_stop(trainer)

    def on_train_start(self, trainer: Any, pl_module: L.LightningModule) -> None:
        super().on_train_start(trainer, pl_module)
        # a fit that raised before that validation ended left it set: the next fit saved that step off its schedule
        self._stop_at_validation = None

    def on_validation_end(self, trainer: Any, pl_module: L.LightningModule) -> None:
        super().on_validation_end(trainer, pl_module)
        if self._stop_at_validation == trainer.global_step and not self._should_skip_saving_checkpoint(trainer):
            self._save_stop(trainer)  # Lightning's save skipped this step (not one of every_n_train_steps, ...)
        self._stop_at_validation = None

    def _save_stop(self, trainer: Any) -> None:
        candidates = self._monitor_candidates(trainer)
        self._save_topk_checkpoint(trainer, candidates)
        self._save_last_checkpoint(trainer, candidates)

    def on_train_epoch_end(self, trainer: Any, pl_module: L.LightningModule) -> None:
        if _epoch_ran_out(trainer):
            super().on_train_epoch_end(trainer, pl_module)
