"""The verification loop as a Lightning stage: ``metanet train fit -c train/loop.yaml``.

One training step is one loop round (:func:`metanet.loop.core.round_loss`) over a batch of random tasks (writer
episodes: support conditions the writer, the query set is cut into val — the reward — and test). Validation
scores fixed held-out episodes (from the data sets' ``val`` splits): best-of-K and K=1 test accuracy. Logged to
TensorBoard: ``reward/mean``, ``reward/best_of_k``, ``reward/worst`` (over the working candidates: the broken ones,
NaN/inf or crashed, are counted in ``candidates/broken``), ``train/loss`` and ``candidates/diversity`` (mean pairwise
disagreement), ``candidates/winners_kept``, ``candidates/broken`` every round (under DDP over every process's
tasks: means over them, winners and broken summed);
``heldout/accuracy_best_of_k`` (also ``hp_metric``), ``heldout/accuracy_k1``, ``heldout/accuracy_mean_candidate``
and ``heldout/accuracy_oracle`` every validation.
Interrupted runs resume from the last checkpoint (``ckpt_path=last``): the episode stream is indexed by step.
A round whose gradient is not finite (a broken candidate's NaN) updates nothing and is logged, as in
``metanet improve``.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import sys
from typing import Any, Mapping

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset
from torch.utils.data.distributed import DistributedSampler

from metanet._lazy import own_attribute
from metanet._state import forked_rng, metanet_defaults
from metanet.errors import CheckpointError, ConfigError, check_number, check_seed, check_whole
from metanet.loop.core import LoopConfig, evaluate, finite_gradients, round_loss
from metanet.loop.rewards import Reward, make_reward, reward_spec
from metanet.loop.tasks import LoopTask, from_episode
from metanet.writer.episodes import EpisodeSampler, check_bases
from metanet.train.stage import (check_export, check_monitors, check_precision, ddp_sigterm, ddp_sigterm_agreed,
                                 export_at_fit_end, own_options, skip_step, summed_over_processes,
                                 validate_on_resume)
from metanet.writer.model import Writer

__all__ = ["LoopModule", "LoopDataModule", "import_reward_module"]


class _Tasks(Dataset):
    """Loop task ``i`` is the sampler's episode ``offset + i``: deterministic, so a resumed run sees the same."""

    def __init__(self, sampler: EpisodeSampler, n: int, offset: int = 0) -> None:
        self.sampler, self.n, self.offset = sampler, n, offset

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> LoopTask:
        if not 0 <= i < self.n:  # the sampler's episodes never end: iterating the set itself (no sampler) never did
            raise IndexError(f"loop task {i} out of range 0..{self.n - 1}")
        j = self.offset + i
        return from_episode(self.sampler.episode(j), seed=j)


def _collate(batch):
    return batch


class LoopDataModule(L.LightningDataModule):
    """Random loop tasks for training, fixed held-out tasks for validation.

    Args:
        bases: data sets the tasks are drawn from.
        tasks_per_round: tasks per loop round (one optimisation step).
        rounds_per_epoch: rounds per epoch; every round draws new tasks (task stream indexed by the global step).
            Under DDP every process runs each round on tasks_per_round tasks of its own (a round, one optimisation
            step, takes ``world_size * tasks_per_round`` tasks of the stream), so an epoch is still
            ``rounds_per_epoch`` steps.
        shots_min / shots_max: support examples per class; query: val + test examples per class.
        heldout_tasks: fixed validation tasks (from the ``val`` splits of the data sets).
        seed: seed of the task stream.

    Use with ``trainer.reload_dataloaders_every_n_epochs: 1`` (as ``train/loop.yaml`` does): each epoch's loader
    starts at the current global step.
    """

    def __init__(
        self,
        bases: tuple[str, ...] = ("digits", "mnist1d"),
        tasks_per_round: int = 4,
        rounds_per_epoch: int = 20,
        shots_min: int = 10,
        shots_max: int = 50,
        query: int = 40,
        heldout_tasks: int = 8,
        seed: int = 0,
    ) -> None:
        given = dict(locals())  # its options, read as self._options (own_options), not through self.hparams
        super().__init__()
        self.save_hyperparameters()
        self._options = own_options(self, LoopDataModule, given)  # a subclass's hparams are its own arguments

    def _check(self) -> None:
        """The sizes and bases, named; from prepare_data (before any data is loaded) and setup (Lightning runs
        prepare_data on one process per node: the others, and a setup() called by hand, drew torch's raw errors)."""
        h = self._options
        for name, v in (("tasks_per_round", h.tasks_per_round), ("rounds_per_epoch", h.rounds_per_epoch),
                        ("heldout_tasks", h.heldout_tasks)):
            check_whole(f"loop data {name}", v, 1)
        # each class's query examples are halved into val (reward) and test (held-out score): with 1 the held-out
        # tasks had no test split, and the first validation, after a whole epoch of rounds, raised
        check_whole("loop data query (val + test examples per class)", h.query, 2)
        check_bases(h.bases, "loop data bases")  # [] failed in the first round (torch's RuntimeError)
        # named here, as the writer's data module does: 1.5 was the sampler's "episode seed must be an integer",
        # from setup, naming no option of this module
        check_seed(h.seed, "loop data seed")

    def prepare_data(self) -> None:
        from metanet import tasks

        self._check()
        for name in self._options.bases:  # loads (and validates) the data once, before the first round
            tasks.get(name)

    def _sampler(self, split: str, seed: int, shots, p_permute=0.25, p_invert=0.15) -> EpisodeSampler:
        h = self._options
        s = EpisodeSampler(tuple(h.bases), split, shots, h.query, p_permute=p_permute, p_invert=p_invert,
                           cnn_prob=0.0, seed=seed)
        return s

    def setup(self, stage: str | None = None) -> None:
        self._check()
        h = self._options
        self.train_sampler = self._sampler("train", h.seed, (h.shots_min, h.shots_max))
        self.val_set = _Tasks(self._sampler("val", 10_000 + h.seed, (50, 50), 0.3, 0.2), h.heldout_tasks)

    def train_dataloader(self) -> DataLoader:
        # round r always sees tasks r * tasks_per_round ...: the stream is indexed by the global step, so a run
        # resumed from a checkpoint taken mid-epoch continues with exactly the rounds it had not done
        # The loader always holds a whole epoch of rounds: Lightning resumes an epoch at batch (step % epoch length)
        # and stops once its restored batch count reaches len(loader), so a loader of only the rounds left made a
        # mid-epoch resume stop early (rounds lost, with max_epochs). It draws from the loader's start, i.e. round
        # `step`; the rounds past the epoch's end are never drawn.
        # Under DDP (W processes) each round takes W * tasks_per_round tasks: process k of round r gets tasks
        # (r * tasks_per_round + j) * W + k, j < tasks_per_round (a DistributedSampler without shuffling, which
        # Lightning leaves alone). Lightning's own sampler split one epoch of tasks_per_round-task rounds among the
        # processes, shuffled: every epoch trained on half its rounds again (offset step * tasks_per_round, with
        # step advancing half as fast) and left as many never drawn.
        h = self._options
        t = self.trainer
        step = t.global_step if t is not None else 0
        o, n = getattr(t, "overfit_batches", 0), h.rounds_per_epoch
        if o:  # --trainer.overfit_batches: the same (first) rounds every epoch; resumed at the one it was at
            step %= min(o, n) if isinstance(o, int) else max(1, int(n * o))
        world = int(t.world_size) if t is not None else 1
        tasks = _Tasks(self.train_sampler, h.rounds_per_epoch * h.tasks_per_round * world,
                       offset=step * h.tasks_per_round * world)
        if world == 1:
            return DataLoader(tasks, batch_size=h.tasks_per_round, shuffle=False, collate_fn=_collate)
        sampler = DistributedSampler(tasks, num_replicas=world, rank=int(t.global_rank), shuffle=False)
        return DataLoader(tasks, batch_size=h.tasks_per_round, sampler=sampler, collate_fn=_collate)

    def val_dataloader(self) -> DataLoader:
        # every process scores every held-out task, in one batch: best-of-K is what a 1-process run logs, and the
        # same on each process (ModelCheckpoint monitors it); Lightning's DDP sampler gave each process about half
        # the tasks (padded with repeats) and each logged, and checkpointed on, its own half's score
        sampler = DistributedSampler(self.val_set, num_replicas=1, rank=0, shuffle=False)
        return DataLoader(self.val_set, batch_size=len(self.val_set), sampler=sampler, collate_fn=_collate)


def _check_writer_options(options: Any, writer: object) -> None:
    """ConfigError unless ``options`` is None or a mapping of :class:`Writer` options other than hidden / message,
    given with ``writer=None`` (a loaded writer keeps its own options; they were silently ignored)."""
    if options is None:
        return
    if writer is not None:
        raise ConfigError(f"writer_options apply to a fresh writer (writer: null) only; writer={writer!r} is loaded "
                          "with its own options: drop writer_options, or set writer to null")
    if not isinstance(options, dict) or not all(isinstance(k, str) for k in options):
        raise ConfigError(f"writer_options must be a mapping of Writer options, e.g. {{steps: 2, head: logistic}}, "
                          f"got {options!r}")
    valid = [n for n in inspect.signature(Writer).parameters if n not in ("hidden", "message")]
    unknown = sorted(set(options) - set(valid))
    if unknown:
        extra = " (give them as hidden / message)" if set(unknown) & {"hidden", "message"} else ""
        raise ConfigError(f"unknown writer_options {', '.join(unknown)}{extra}; valid: {', '.join(valid)}")


def import_reward_module(spec: Any) -> None:
    """Import the module of the Reward class that a reward mapping (``{class_path: myrewards.Mine, init_args: ...}``)
    names; nothing for anything else. For a config of one's own: ``metanet train`` calls it before it makes the
    module. A LoopModule imports none itself: loading a checkpoint (anyone's file) must run no code it names.

    Raises:
        ConfigError: the module cannot be imported, naming the class.
    """
    path = spec.get("class_path") if isinstance(spec, Mapping) else None
    module = path.rpartition(".")[0] if isinstance(path, str) else ""
    if not module:
        return  # no class named, or no module: LoopModule's own error
    try:
        importlib.import_module(module)
    except ImportError as e:
        raise ConfigError(f"reward class {path} cannot be imported ({e}): put the module that defines it on the "
                          "Python path (PYTHONPATH, or the directory the run starts in)") from None


def _reward_from_class_path(spec: Mapping) -> Reward:
    """A Reward from LightningCLI's spelling of a class, ``{"class_path": "myrewards.Mine", "init_args": {...}}``:
    how a LoopModule of a Reward class of one's own given so is saved, and made again from its checkpoint. The
    class's module must be imported already (as Lightning's ``_class_path`` of a checkpoint): importing it here ran
    the code of whatever module a checkpoint named."""
    path, init = spec.get("class_path"), spec.get("init_args") or {}
    if (not isinstance(path, str) or set(spec) - {"class_path", "init_args"} or not isinstance(init, Mapping)
            or not all(isinstance(k, str) for k in init)):
        raise ConfigError(f"a reward given as a mapping is {{class_path: module.RewardClass, init_args: {{...}}}} "
                          f"(a Reward subclass and its arguments), got {dict(spec)!r}")
    module, _, name = path.rpartition(".")
    if not module or not name:
        raise ConfigError(f"reward class_path {path!r} must name a module and a class, e.g. myrewards.MyReward")
    if module not in sys.modules:
        raise ConfigError(f"reward class {path}: its module {module} is not imported; import it before the "
                          "LoopModule is made or loaded (a LoopModule imports no module its reward names, as a "
                          "checkpoint's could be anyone's; 'metanet train' imports the one its config names)")
    # not getattr: a module's lazy __getattr__ imports (metanet's own lazy packages only their own submodules)
    cls = own_attribute(sys.modules[module], name)
    if cls is None:
        raise ConfigError(f"reward class {path} not found: module {module} has no {name}")
    if not (isinstance(cls, type) and issubclass(cls, Reward)):
        raise ConfigError(f"reward class_path {path} is not a Reward: give a subclass of "
                          f"metanet.loop.rewards.Reward (got {cls!r})")
    try:
        made = cls(**init)
    except TypeError as e:  # an argument the class does not take, or one it needs
        raise ConfigError(f"reward class {path} cannot be made from init_args {dict(init)!r}: {e}") from None
    return make_reward(made)  # its checks: the base class itself implements no score


class LoopModule(L.LightningModule):
    """Improves a writer with the verification loop.

    Args:
        writer: ``"shipped"`` (the packaged checkpoint), a checkpoint path, or None (a fresh ``Writer(hidden,
            message, **writer_options)``). A checkpoint is read when the module is configured for a fit
            (``configure_model``), not when it is constructed: ``self.writer`` is None until then. A run resumed
            from a Lightning checkpoint of this module (``--ckpt_path``, ``load_from_checkpoint``) does not need the
            file: the checkpoint holds the writer's config (``writer_config``) beside its weights.
        hidden, message: the fresh writer's sizes (:class:`~metanet.writer.Writer`), for ``writer=None`` only: a
            loaded writer keeps its own, which ``hparams.yaml`` and the checkpoints record as ``writer_config``.
        writer_options: the fresh writer's other :class:`~metanet.writer.Writer` options (``steps``, ``head``,
            ``augment``, ``augment_below``, ``max_rows``, ...), for ``writer=None`` only.
        method, candidates, keep, temperature, beta, sigma, mixup, ce_weight, refine_steps, refine_method,
            refine_population, refine_sigma, selection, folds:
            :class:`LoopConfig` (``selection``: how candidates are rewarded — ``"val"`` (default) or ``"crossfit"``
            over support and val; the held-out validation chooses the same way).
        reward: reward spec (``"accuracy"``, ``"accuracy+size(0.05)"``); a
            :class:`~metanet.loop.rewards.Reward` class of one's own as LightningCLI names classes, in the YAML
            config ``reward: {class_path: myrewards.MyReward, init_args: {scale: 2.0}}`` (its module on the Python
            path: ``metanet train`` imports it), saved so in ``hparams`` and the checkpoints: a resume with that
            config makes it again, and so does ``load_from_checkpoint`` once ``myrewards`` is imported (the module
            takes the same mapping from Python, its module imported; a LoopModule imports no module its reward
            names, as a checkpoint's could be anyone's: a ConfigError naming the class); or, from Python, a Reward
            object (saved as :func:`~metanet.loop.rewards.reward_spec` spells it; one of a class of one's own is
            given again to ``load_from_checkpoint(path, reward=...)``).
        lr: Adam learning rate. export: save the improved writer there (safetensors) when fitting ends.
    """

    # the metrics it logs, which a callback's `monitor` may name
    LOGGED = ("reward/mean", "reward/best_of_k", "reward/worst", "candidates/diversity", "candidates/winners_kept",
              "candidates/broken", "train/loss", "heldout/accuracy_best_of_k", "heldout/accuracy_k1",
              "heldout/accuracy_mean_candidate", "heldout/accuracy_oracle", "hp_metric")

    def __init__(
        self,
        writer: str | None = "shipped",
        hidden: int = 32,
        message: int = 16,
        method: str = "expert",
        candidates: int = 8,
        keep: int = 1,
        temperature: float = 2.0,
        beta: float = 1.0,
        sigma: float = 0.05,
        mixup: int = 1,
        ce_weight: float = 0.0,
        refine_steps: int = 0,
        refine_method: str = "activity",
        refine_population: int = 32,
        refine_sigma: float = 0.01,
        selection: str = "val",
        folds: int = 5,
        # dict before Reward: jsonargparse keeps a {class_path, init_args} mapping as it is (saved so), made a
        # Reward here from a module imported already; taken as a Reward class, jsonargparse imported the module that
        # a checkpoint's mapping named when load_from_checkpoint parsed it, running anyone's code
        reward: str | dict | Reward = "accuracy",
        lr: float = 1e-3,
        export: str | None = None,
        writer_options: dict | None = None,
    ) -> None:
        given = dict(locals())  # its options, read as self._options (own_options), not through self.hparams
        super().__init__()
        check_number("lr", lr, "> 0", lambda v: v > 0)  # as `metanet improve`; Adam refused it only when fitting began
        if writer is not None and not isinstance(writer, (str, os.PathLike)):
            raise ConfigError(f"writer must be 'shipped', a checkpoint path or None (a fresh writer), got {writer!r}")
        _check_writer_options(writer_options, writer)
        self.save_hyperparameters()
        self._options = own_options(self, LoopModule, given)  # a subclass's hparams are its own arguments
        if isinstance(reward, Reward):
            # saved as an object it made an hparams.yaml of !!python/object tags and a checkpoint that
            # load_from_checkpoint (weights_only) refused: saved as reward_spec spells it (a reward class of one's own
            # as its repr, which make_reward refuses: give the reward again, load_from_checkpoint(path, reward=...))
            for hparams in (self._hparams, self._hparams_initial):
                hparams["reward"] = reward_spec(reward)
        # a checkpoint is read in configure_model: LightningCLI constructs the module before it runs anything, and a
        # resumed fit replaces the weights anyway
        self.writer: Writer | None = None
        self._writer_error: CheckpointError | None = None  # the file's, while a restored checkpoint may stand in
        if writer is None:
            self._use(Writer(hidden, message, **(writer_options or {})))
        self.cfg = LoopConfig(method=method, candidates=candidates, keep=keep, temperature=temperature, beta=beta,
                              sigma=sigma, mixup=mixup, ce_weight=ce_weight, refine_steps=refine_steps,
                              refine_method=refine_method, refine_population=refine_population,
                              refine_sigma=refine_sigma, selection=selection, folds=folds)
        try:
            self.reward = _reward_from_class_path(reward) if isinstance(reward, Mapping) else make_reward(reward)
        except ConfigError as e:
            # a checkpoint of a module given a reward of one's own holds its repr ('_Mine()'): the bare "unknown
            # reward term" said nothing of giving it again
            if isinstance(reward, str) and re.fullmatch(r"\s*[A-Za-z_]\w*(\.[A-Za-z_]\w*)+\s*", reward):
                # a class named as a string (--model.init_args.reward=myrewards.Mine): a spec string is read
                raise ConfigError(f"{e}; a Reward class of one's own is given as {{class_path: {reward.strip()}, "
                                  "init_args: {...}}") from None
            if not (isinstance(reward, str) and re.search(r"(?<![\w.])(?!size\()[A-Za-z_][\w.]*\(", reward)):
                raise
            raise ConfigError(f"{e}; {reward!r} is how a LoopModule saves a reward object that no spec string spells "
                              "(a Reward class of one's own, another tie or threshold): give that reward again, "
                              "LoopModule.load_from_checkpoint(path, reward=...)") from None

    def _use(self, writer: Writer) -> None:
        self.writer = writer
        self._writer_error = None
        # the loggers write hparams_initial to hparams.yaml when the fit starts (after configure_model and a
        # checkpoint's restore): it names the writer trained, not only hidden/message, which a loaded one ignores.
        # Not in self.hparams: those are the checkpoint's hyper_parameters, which LightningCLI parses back as
        # constructor arguments (--ckpt_path), where writer_config is none
        if hasattr(self, "_hparams_initial"):
            self._hparams_initial["writer_config"] = writer.config()

    def configure_model(self) -> None:
        # Lightning calls this before it restores a --ckpt_path checkpoint and before configure_optimizers (and
        # load_from_checkpoint before it loads the weights); once: a validate after the fit keeps the trained writer.
        # Neither tells this hook whether a checkpoint follows: a file that cannot be read is an error only if none
        # does (on_load_checkpoint builds the writer from the checkpoint's config; else _writer_needed raises it)
        if self.writer is None:
            path = self._options.writer
            try:
                self._use(Writer.load(None if path == "shipped" else path).train())
            except CheckpointError as e:
                self._writer_error = e

    def _writer_needed(self) -> Writer:
        """The writer, or the error of the file that could not be read (no checkpoint was restored in its stead)."""
        if self.writer is None:
            if self._writer_error is not None:
                raise self._writer_error
            raise ConfigError("this LoopModule's writer is not loaded yet: run it with a Trainer (fit / validate) "
                              "or call configure_model() first")
        return self.writer

    def setup(self, stage: str) -> None:
        check_precision(self)  # the writer's ridge solves compute in float32 only
        if stage == "fit":
            check_export(self)
            check_monitors(self, self.LOGGED)
            acc = self.trainer.accumulate_grad_batches
            if acc != 1:
                # the task stream (train_dataloader) and the candidates' seeds are indexed by the optimisation step:
                # accumulated rounds drew the same seeds, and each epoch after the first trained again on tasks of
                # the one before
                raise ConfigError(f"--trainer.accumulate_grad_batches={acc}: a LoopModule round is one optimisation "
                                  "step (its tasks and seeds are indexed by the step); for more tasks per step raise "
                                  "data.tasks_per_round instead, and leave accumulate_grad_batches at 1")

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        # the writer's constructor options (the learned scalars are in the state dict): a resume or
        # load_from_checkpoint rebuilds it from here, without the file it was first loaded from
        checkpoint["writer_config"] = self.writer.config()

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        # called before the weights are loaded into self.writer (and, in a fit, before the optimizer is made)
        config = checkpoint.get("writer_config")
        if isinstance(config, dict) and (self.writer is None or self.writer.config() != config):
            try:
                with forked_rng(), metanet_defaults():  # as Writer.load: the caller's RNG stream untouched, float32
                    writer = Writer(**config)
            except (ConfigError, TypeError) as e:
                raise CheckpointError(f"this LoopModule checkpoint's writer_config {config} is not a valid Writer "
                                      f"({e})") from None
            self._use(writer.train())
        self._writer_needed()  # a checkpoint written before writer_config existed: the file was needed after all
        # a last.ckpt taken after an epoch's last round (train/loop.yaml saves one every round) precedes that
        # epoch's validation: Lightning resumed past it, so the resumed run's held-out metrics and best checkpoint
        # lacked the uninterrupted run's
        validate_on_resume(self, checkpoint)

    def transfer_batch_to_device(self, batch, device, dataloader_idx):
        return batch  # LoopTasks hold a frozen Arch; the loop runs on CPU

    def training_step(self, batch: list[LoopTask], batch_idx: int):
        loss, stats = round_loss(self.writer, batch, self.cfg, self.reward, seed=self.global_step * 1009 + 1)
        logged = loss
        if self._trainer is not None and self.trainer.world_size > 1:
            # every process, every round (a skipped one too): the round's figures over all processes' tasks
            logged, stats = self._round_over_processes(loss, stats)
        n = max(1, stats.get("tasks", 0))
        names = {"reward_mean": "reward/mean", "reward_best": "reward/best_of_k", "reward_worst": "reward/worst",
                 "diversity": "candidates/diversity", "winners": "candidates/winners_kept",
                 "broken": "candidates/broken"}
        for k, tag in names.items():
            if k in stats:
                self.log(tag, float(stats[k]), batch_size=n, prog_bar=k == "reward_mean")
        if logged is not None:
            self.log("train/loss", logged, batch_size=n)
        if loss is None:
            return skip_step(self)  # every candidate broken: nothing to learn from this round, the loop goes on
        return loss

    def _round_over_processes(self, loss: torch.Tensor | None, stats: dict) -> tuple[float | None, dict]:
        """Under DDP: the mean loss over every process's tasks (None if no process has one) and the round's stats over
        them, as one process computes them over its own (means over tasks, weighted by each process's count; winners
        and broken summed). Every process calls it each round: one all_gather. Each process logged only its own tasks
        (TensorBoard showed process 0's half of the round)."""
        rows = stats.get("tasks", 0)
        # round_loss's means are over the tasks with a working candidate (over all if none has one) and the loss over
        # those with a finite loss: each process's figures are weighted by its own counts of them
        working, with_loss = stats.get("tasks_working", rows), stats.get("tasks_with_loss", rows)
        rewards = ("reward_mean", "reward_best", "reward_worst")
        mine = {"tasks": rows, "working": working, "loss_tasks": with_loss if loss is not None else 0,
                "loss": 0.0 if loss is None else float(loss.detach()) * with_loss}
        for k in rewards:  # weighted by the working tasks, and by all for the fallback
            mine[k], mine[f"{k}/all"] = float(stats.get(k, 0.0)) * working, float(stats.get(k, 0.0)) * rows
        mine["diversity"] = float(stats.get("diversity", 0.0)) * rows
        mine["winners"], mine["broken"] = float(stats.get("winners", 0.0)), float(stats.get("broken", 0.0))
        s = summed_over_processes(self, mine)
        out: dict = {"tasks": int(s["tasks"])}
        if out["tasks"]:
            # the working tasks of every process, as round_loss's fallback: all of them if none has one
            for k in rewards:
                out[k] = s[k] / s["working"] if s["working"] > 0 else s[f"{k}/all"] / s["tasks"]
            out["diversity"] = s["diversity"] / s["tasks"]
            out["winners"], out["broken"] = s["winners"], s["broken"]
        return (s["loss"] / s["loss_tasks"] if s["loss_tasks"] > 0 else None), out

    def on_train_start(self) -> None:
        ddp_sigterm(self)  # under DDP: SIGTERM stops every process at the same round (Lightning's handler could hang)

    def on_train_batch_end(self, outputs, batch, batch_idx: int) -> None:
        ddp_sigterm_agreed(self)

    def validation_step(self, batch: list[LoopTask], batch_idx: int) -> None:
        with torch.no_grad():
            ev = evaluate(self.writer, batch, candidates=self.cfg.candidates, seed=0, reward=self.reward,
                          selection=self.cfg.selection, folds=self.cfg.folds)
        # every process scored the same tasks (val_dataloader): syncing averages equal values, and silences
        # Lightning's DDP warning that these epoch-level metrics are not synced
        n = len(batch)
        self.log("heldout/accuracy_best_of_k", ev["best_of_k"], batch_size=n, prog_bar=True, sync_dist=True)
        self.log("heldout/accuracy_k1", ev["k1"], batch_size=n, sync_dist=True)
        # computed by evaluate all the same; named as `metanet improve` logs them (metanet.loop.core._tb_row)
        self.log("heldout/accuracy_mean_candidate", ev["mean"], batch_size=n, sync_dist=True)
        self.log("heldout/accuracy_oracle", ev["oracle"], batch_size=n, sync_dist=True)
        self.log("hp_metric", ev["best_of_k"], batch_size=n, sync_dist=True)  # the hparams tab's (else Lightning's -1)

    def on_fit_end(self) -> None:
        export_at_fit_end(self, self.writer.save)

    def on_before_optimizer_step(self, optimizer) -> None:
        # a broken candidate (NaN/inf weights) gets the lowest reward and no distillation target, but the backward
        # pass through the writer's joint write of the K candidates can still carry its NaN into the gradient: Adam
        # then made the writer NaN, every later round broken and the next validation raised (the stage died).
        # As `metanet improve` does: skip that update (Adam leaves parameters without a gradient untouched)
        if not finite_gradients(self.writer, self.global_step):
            for p in self.writer.parameters():
                p.grad = None

    def on_validation_start(self) -> None:
        self._writer_needed()  # a validate without --ckpt_path of a writer file that could not be read

    def configure_optimizers(self):
        return torch.optim.Adam(self._writer_needed().parameters(), lr=self._options.lr)
