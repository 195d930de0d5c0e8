"""Lightning training of the :class:`~metanet.writer.Writer` (``metanet train fit -c train/writer.yaml``).

The objective is functional: the written network is run on the episode's query set with
``torch.func.functional_call`` and its cross-entropy is backpropagated into the writer (never a weight-regression
loss). When a zoo is given, part of each batch are the zoo's own tasks and the zoo's trained networks act as
teachers: the written network is also distilled towards the teacher's softened outputs (Hinton et al., KL at
temperature T, scaled by T²). With ``steps > 1`` every refinement pass is supervised (deep supervision).
"""

from __future__ import annotations

import math

import lightning as L
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.func import functional_call, vmap
from torch.utils.data import DataLoader, IterableDataset

from metanet.errors import ZooError, check_number, check_seed, check_whole
from metanet.nets import build
from metanet.train.stage import (check_export, check_flag, check_monitors, check_precision, ddp_sigterm,
                                 ddp_sigterm_agreed, export_at_fit_end, figure_step, fit_position, own_options,
                                 skip_step, summary_writers, summed_over_processes)
from metanet.verify import predicted
from metanet.writer.episodes import Episode, EpisodeSampler, check_bases
from metanet.writer.model import Writer

__all__ = ["WriterModule", "EpisodeDataModule", "written_logits"]


def written_logits(arch, params: dict[str, Tensor], x: Tensor) -> Tensor:
    """Logits ``(B, n, K)`` of B written networks of ``arch`` on inputs ``x``."""
    base = build(arch, seed=None).to("meta")
    return vmap(lambda p: functional_call(base, p, (x,)))(params)


def _collate(batch: list[Episode]) -> list[Episode]:
    return batch


class _EpochEpisodes(IterableDataset):
    """The training stream, re-seeded with the trainer's epoch each time an epoch starts iterating it: Lightning
    builds the train loader once (``train/writer.yaml`` does not reload it), so a seed set in ``train_dataloader``
    gave every epoch the same episodes, and a run resumed at an epoch's end other episodes than an uninterrupted
    one. A resumed run's iterator starts at the batch the checkpoint was taken at (Lightning restarts an iterable
    from its beginning, and ran the epoch's first batches again)."""

    def __init__(self, dm: "EpisodeDataModule", sampler: EpisodeSampler) -> None:
        self.dm, self.sampler = dm, sampler

    def __len__(self) -> int:
        return len(self.sampler)

    def __iter__(self):
        t, h = self.dm.trainer, self.dm._options
        # (the epoch counter alone drew the next epoch's episodes after a max_steps resume at an epoch's end)
        epoch, skip = fit_position(t, math.ceil(len(self.sampler) / h.tasks_per_step)) or (0, 0)
        rank = t.global_rank if t is not None else 0
        # --trainer.overfit_batches: every epoch its first batches again, which epoch 0's stream holds
        if not h.fresh_episodes or getattr(t, "overfit_batches", 0):
            epoch = 0
        self.sampler.seed = h.seed * 7919 + 104_729 * epoch + rank  # a new seed each epoch: fresh but reproducible
        # as EpisodeSampler.__iter__ (worker w of W yields w, w + W, ...), from the first batch not yet trained on
        info = torch.utils.data.get_worker_info()
        w, n = (0, 1) if info is None else (info.id, info.num_workers)
        return (self.sampler.episode(i) for i in range(skip * h.tasks_per_step + w, len(self.sampler), n))


class EpisodeDataModule(L.LightningDataModule):
    """Random training episodes and a fixed set of validation episodes.

    Args:
        bases: data sets the tasks are drawn from.
        tasks_per_step: episodes per optimisation step.
        shots_min / shots_max: support examples per class (drawn log-uniformly).
        query: query examples per class.
        cnn_prob: probability an episode writes a CNN.
        val_episodes: fixed validation episodes (drawn from the data sets' ``val`` splits).
        steps_per_epoch: optimisation steps per "epoch" (the stream is endless).
        seed: seed of the episode stream.
        fresh_episodes: draw new training episodes every epoch (seeded by the epoch, so a resumed run sees what an
            uninterrupted one does; under the trainer's ``overfit_batches``, epoch 0's first batches every epoch).
            False: the same ``steps_per_epoch * tasks_per_step`` episodes every epoch, the stream the shipped writer
            was trained on (``train/writer.yaml``).

    Under DDP every process draws its own training stream (its seed is offset by its rank; process 0's is a
    1-process run's): a step trains on ``world_size * tasks_per_step`` episodes, an epoch is still
    ``steps_per_epoch`` steps. Every process validates on all ``val_episodes`` (the synced metrics are a 1-process
    run's for the same weights).
    """

    def __init__(
        self,
        bases: tuple[str, ...] = ("mnist", "fashion-mnist", "digits", "mnist1d"),
        tasks_per_step: int = 8,
        shots_min: int = 10,
        shots_max: int = 100,
        query: int = 30,
        cnn_prob: float = 0.15,
        val_episodes: int = 32,
        steps_per_epoch: int = 100,
        seed: int = 0,
        fresh_episodes: bool = True,
    ) -> None:
        given = dict(locals())  # its options, read as self._options (own_options), not through self.hparams
        super().__init__()
        check_flag("writer data fresh_episodes", fresh_episodes)  # "no" was truthy: fresh episodes every epoch
        self.save_hyperparameters()
        self._options = own_options(self, EpisodeDataModule, given)  # a subclass's hparams are its own arguments

    def prepare_data(self) -> None:
        from metanet import tasks

        # Lightning calls this before setup(): a bare string was loaded letter by letter ("unknown data set 'd'"),
        # None was a raw TypeError
        check_bases(self._options.bases)
        for name in self._options.bases:  # loads (and validates) the data once, before training starts
            tasks.get(name)

    def setup(self, stage: str | None = None) -> None:
        h = self._options
        for name, v in (("tasks_per_step", h.tasks_per_step), ("steps_per_epoch", h.steps_per_epoch),
                        ("val_episodes", h.val_episodes)):  # named here: the sampler only sees their product
            check_whole(f"writer data {name}", v, 1)
        # named here too: the samplers see seed * 7919 + rank and 10_000 + seed
        check_seed(h.seed, "writer data seed")
        rank = self.trainer.global_rank if self.trainer is not None else 0
        self.train_set = EpisodeSampler(
            h.bases, "train", (h.shots_min, h.shots_max), h.query, cnn_prob=h.cnn_prob,
            seed=h.seed * 7919 + rank, length=h.steps_per_epoch * h.tasks_per_step,
        )
        self.val_set = EpisodeSampler(
            h.bases, "val", (50, 50), 50, p_permute=0.3, p_invert=0.2, cnn_prob=h.cnn_prob,
            seed=10_000 + h.seed, length=h.val_episodes,
        )

    def train_dataloader(self) -> DataLoader:
        return DataLoader(_EpochEpisodes(self, self.train_set), batch_size=self._options.tasks_per_step,
                          collate_fn=_collate)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val_set, batch_size=self._options.val_episodes, collate_fn=_collate)


class WriterModule(L.LightningModule):
    """Trains a :class:`Writer` on episodes with the written networks' query loss.

    Args:
        hidden, message, ridge_lambda, sub_lambda, head_lambda, temperature, start_mix, steps, max_rows, head,
            head_iters, logit_lambda, augment, augment_below: the Writer's (:class:`~metanet.writer.Writer`).
        lr: AdamW learning rate; weight_decay: AdamW weight decay.
        zoo: optional zoo directory whose networks serve as teachers on their own tasks.
        distill_weight: weight of the distillation term; distill_temperature: its temperature T.
        export: where to write the trained writer as a safetensors checkpoint when fitting ends.
    """

    # the metrics it logs (val/query_acc_<base>: one per data set), which a callback's `monitor` may name
    LOGGED = ("train/loss", "train/query_acc", "val/loss", "val/query_acc", "val/query_acc_*", "hp_metric")

    def __init__(
        self,
        hidden: int = 32,
        message: int = 16,
        ridge_lambda: float = 3.0,
        sub_lambda: float = 3.0,
        head_lambda: float = 0.1,
        temperature: float = 5.0,
        start_mix: float = 0.0,
        steps: int = 1,
        max_rows: int = 4096,
        head: str = "ridge",
        head_iters: int = 30,
        logit_lambda: float = 3.0,
        augment: str = "shift",
        augment_below: int = 100,
        lr: float = 3e-3,
        weight_decay: float = 1e-4,
        zoo: str | None = None,
        distill_weight: float = 0.5,
        distill_temperature: float = 4.0,
        export: str | None = None,
    ) -> None:
        given = dict(locals())  # its options, read as self._options (own_options), not through self.hparams
        super().__init__()
        # checked here, as the reader and loop stages do: AdamW refused lr/weight_decay only as fitting began (a
        # traceback), and a negative distill_weight or a zero temperature trained on without a word
        check_number("lr", lr, "> 0", lambda v: v > 0)
        check_number("weight_decay", weight_decay, ">= 0", lambda v: v >= 0)
        check_number("distill_weight", distill_weight, ">= 0", lambda v: v >= 0)
        check_number("distill_temperature", distill_temperature, "> 0", lambda v: v > 0)
        self.save_hyperparameters()
        self._options = own_options(self, WriterModule, given)  # a subclass's hparams are its own arguments
        self.writer = Writer(
            hidden=hidden, message=message, ridge_lambda=ridge_lambda, sub_lambda=sub_lambda, head_lambda=head_lambda,
            temperature=temperature, start_mix=start_mix, steps=steps, max_rows=max_rows, head=head,
            head_iters=head_iters, logit_lambda=logit_lambda, augment=augment, augment_below=augment_below,
        )
        self._teachers = None

    def setup(self, stage: str) -> None:
        check_precision(self)  # the ridge solves under bf16 autocast: a numpy TypeError deep in the first step
        if stage == "fit":
            check_export(self)
            check_monitors(self, self.LOGGED)
        if stage == "fit" and self._options.zoo is not None:  # a bad teacher zoo fails before training, not step 1
            self._load_teachers()

    def _load_teachers(self) -> None:
        """Open the zoo and select its teachers: clean, converged, final checkpoints."""
        from metanet.zoo import Zoo

        zoo = Zoo(self._options.zoo)
        rows = zoo.select(backdoor=False, final=True, diverged=False)
        if not rows:  # drawing from none was torch's "random_ expects 'from' to be less than 'to'"
            raise ZooError(f"zoo {self._options.zoo} has no teachers: none of its networks is clean (no backdoor), "
                           f"final and converged; give a zoo that holds some, or zoo: null to train without")
        self._teachers = (zoo, rows)

    # --- teachers -----------------------------------------------------------------------------------
    def _teacher_episodes(self, n: int, seed: int) -> list[tuple[Episode, Tensor]]:
        """Episodes on the zoo's tasks with the logits of a trained zoo network on the query set."""
        if self._options.zoo is None:
            return []
        from metanet import tasks

        if self._teachers is None:
            self._load_teachers()
        zoo, rows = self._teachers
        g = torch.Generator().manual_seed(seed)
        out = []
        for _ in range(n):
            r = rows[int(torch.randint(len(rows), (1,), generator=g))]
            teacher = zoo.load(r.id)
            task = tasks.get(r.task)
            x, y = task.split("train")
            shots = int(torch.randint(10, 101, (1,), generator=g))
            from metanet.writer.episodes import make_episode

            support, query, _ = make_episode(x, y, list(range(task.num_classes)), shots, 30, g)
            with torch.no_grad():
                t_logits = teacher(query[0])
            out.append((Episode(task.name, teacher.arch, support, query, {"teacher": r.id, "base": "zoo"}), t_logits))
        return out

    # --- steps --------------------------------------------------------------------------------------
    def _episode_loss(self, ep: Episode, teacher: Tensor | None = None, seed: int = 0) -> tuple[Tensor, list[float]]:
        steps = self.writer.write(ep.arch, *ep.support, start=None, candidates=1, seed=seed, all_steps=True)
        qx, qy = ep.query
        losses, accs = [], []
        for params in steps:
            logits = written_logits(ep.arch, params, qx)[0]
            loss = F.cross_entropy(logits, qy)
            if teacher is not None:
                t = self._options.distill_temperature
                kl = F.kl_div(F.log_softmax(logits / t, -1), F.log_softmax(teacher / t, -1), log_target=True,
                              reduction="batchmean")
                loss = loss + self._options.distill_weight * t * t * kl
            losses.append(loss)
            accs.append((predicted(logits) == qy).float().mean().item())  # a NaN/inf row is wrong, as in verify
        return torch.stack(losses).mean(), accs

    def transfer_batch_to_device(self, batch: list[Episode], device, dataloader_idx: int) -> list[Episode]:
        # Episodes hold a frozen Arch, which Lightning's generic mover refuses: move the tensors ourselves
        for ep in batch:
            ep.support = tuple(t.to(device) for t in ep.support)
            ep.query = tuple(t.to(device) for t in ep.query)
        return batch

    def _step_seed(self, batch_idx: int) -> int:
        """The seed of a training batch's writes and teacher episodes. ``global_step * 1009 + rank`` (the shipped
        writer's) when every batch is its own optimizer step; under ``accumulate_grad_batches=K > 1`` the K batches
        of one step all had that seed (the same teacher episodes K times): the batch's place in its step, counted as
        Lightning counts it (``batch_idx % K``), now makes each batch's seed its own."""
        k = int(self.trainer.accumulate_grad_batches) if self._trainer is not None else 1
        if k <= 1:
            return self.global_step * 1009 + self.global_rank
        return (self.global_step * k + batch_idx % k) * 1009 + self.global_rank

    def training_step(self, batch: list[Episode], batch_idx: int) -> Tensor | None:
        seed = self._step_seed(batch_idx)
        items = [(ep, None) for ep in batch] + self._teacher_episodes(max(1, len(batch) // 4), seed)
        losses, accs = [], []
        for i, (ep, teacher) in enumerate(items):
            loss, acc = self._episode_loss(ep, teacher, seed=seed + i)
            if torch.isfinite(loss):  # a degenerate episode must not poison the update
                losses.append(loss)
                accs.append(acc[-1])
        loss = torch.stack(losses).mean() if losses else None
        logged = loss, sum(accs) / max(1, len(accs))
        if self._trainer is not None and self.trainer.world_size > 1:
            # every process, every batch (a skipped one too): the means over all processes' finite episodes (each
            # logged its own, and TensorBoard showed process 0's)
            s = summed_over_processes(self, {"n": len(losses), "acc": float(sum(accs)),
                                             "loss": float(torch.stack(losses).detach().sum()) if losses else 0.0})
            logged = (s["loss"] / s["n"], s["acc"] / s["n"]) if s["n"] > 0 else (None, None)
        if logged[0] is not None:
            self.log("train/loss", logged[0], prog_bar=True, batch_size=len(items))
            self.log("train/query_acc", logged[1], prog_bar=True, batch_size=len(items))
        if loss is None:
            # every episode degenerate: nothing to learn from this batch, training goes on (as the loop's)
            return skip_step(self)
        return loss

    def on_train_start(self) -> None:
        ddp_sigterm(self)  # under DDP: SIGTERM stops every process at the same batch (Lightning's handler could hang)

    def on_train_batch_end(self, outputs, batch, batch_idx: int) -> None:
        ddp_sigterm_agreed(self)

    def on_validation_epoch_start(self) -> None:
        self._val = []

    def validation_step(self, batch: list[Episode], batch_idx: int) -> None:
        for i, ep in enumerate(batch):
            with torch.no_grad():
                loss, accs = self._episode_loss(ep, seed=i)
            self._val.append((ep, loss.item(), accs))

    def on_validation_epoch_end(self) -> None:
        if not self._val:
            return
        n_steps = len(self._val[0][2])
        per_step = [sum(a[s] for _, _, a in self._val) / len(self._val) for s in range(n_steps)]
        self.log("val/loss", sum(v[1] for v in self._val) / len(self._val), sync_dist=True)
        self.log("val/query_acc", per_step[-1], prog_bar=True, sync_dist=True)
        self.log("hp_metric", per_step[-1], sync_dist=True)  # the hparams tab's metric (else Lightning's -1)
        by_base: dict[str, list[list[float]]] = {}
        for ep, _, accs in self._val:
            by_base.setdefault(ep.meta["base"], []).append(accs)
        # the written networks' accuracy on each data set's val tasks (measured: run on their query sets)
        for base, v in by_base.items():
            self.log(f"val/query_acc_{base}", sum(a[-1] for a in v) / len(v), sync_dist=True)
        self._figure(per_step, {b: [sum(a[s] for a in v) / len(v) for s in range(n_steps)] for b, v in by_base.items()})

    def _figure(self, per_step: list[float], by_base: dict[str, list[float]] | None = None) -> None:
        exps = summary_writers(self)  # every logger that takes figures (a CSVLogger listed first does not)
        step = figure_step(self)
        if not exps or step is None:
            return
        # a plain Figure: pyplot's matplotlib.use("Agg") switched the process's backend (a notebook's inline one
        # too) and closed every figure the user had open, at each validation
        from matplotlib.figure import Figure

        fig = Figure(figsize=(4, 3))
        ax = fig.subplots()
        passes = range(1, len(per_step) + 1)
        by_base = by_base if by_base and len(by_base) > 1 else {}  # one data set: its curve is the mean's
        for base, acc in sorted(by_base.items()):
            ax.plot(passes, acc, marker=".", lw=0.8, alpha=0.7, label=base)
        ax.plot(passes, per_step, marker="o", color="k", label="all")
        ax.set_xticks(list(passes))
        ax.set_xlabel("refinement pass")
        ax.set_ylabel("query accuracy (val episodes)")
        ax.set_title("accuracy vs refinement step")
        if by_base:
            ax.legend(fontsize=6)
        fig.tight_layout()
        for exp in exps:
            exp.add_figure("val/accuracy_vs_step", fig, global_step=step)

    def on_fit_end(self) -> None:
        export_at_fit_end(self, self.writer.save)

    def configure_optimizers(self):
        h = self._options
        return torch.optim.AdamW(self.writer.parameters(), lr=h.lr, weight_decay=h.weight_decay)

    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None):
        # clip by default (norm 1): a few ill-conditioned support sets give huge gradients through the ridge solves.
        # The trainer's gradient_clip_val / gradient_clip_algorithm are used as given: a forced "norm" and "0 or 1.0"
        # were Lightning's "Please use only one of them" traceback at the first step under
        # --trainer.gradient_clip_algorithm=value and --trainer.gradient_clip_val=0 (which turns clipping off)
        if gradient_clip_val is None:
            gradient_clip_val = 1.0
        self.clip_gradients(optimizer, gradient_clip_val=gradient_clip_val,
                            gradient_clip_algorithm=gradient_clip_algorithm)
