"""Lightning training of the :class:`~metanet.reader.Reader` (``metanet train fit -c train/reader.yaml``).

:class:`ReaderDataModule` loads the networks of one or more zoo directories as neural graphs with targets (split by
training run, leak-free; see :mod:`metanet.reader.data`), once, in memory. :class:`ReaderModule` fits the reader's
input normalisation on the training split in ``setup`` (never on val/test), trains all heads with one weighted
multi-task loss and logs to TensorBoard: losses, Kendall tau and R^2 of the accuracy head, task accuracy, backdoor
AUROC, role accuracy, and figures (predicted vs true accuracy; task confusion matrix).
"""

from __future__ import annotations

import json
import math
from typing import Any, Sequence

import lightning as L
import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.loader import DataLoader

from metanet._state import with_metanet_defaults
from metanet.reader.model import Reader
from metanet.train.stage import options, own_options

__all__ = ["ReaderModule", "ReaderDataModule", "reader_losses", "metrics"]


class _TrainLoader(DataLoader):
    """A PyG ``DataLoader`` that calls its ``before_iter`` (if set) before each iterator is made; it returns the
    number of batches to skip (those a resumed fit trained on before its checkpoint) and the torch RNG state to
    make the iterator with (the one its epoch's shuffle was drawn from), or None."""

    def __iter__(self):
        before = getattr(self, "before_iter", None)
        plan = before() if before is not None else None
        if plan is None:
            return super().__iter__()
        skip, state = plan
        now = torch.get_rng_state()
        torch.set_rng_state(state)  # the epoch's order (and the loader's base seed) as the uninterrupted fit drew them
        it = super().__iter__()
        for _ in range(skip):
            next(it)  # draws the sampler's seed with the first batch; collating draws nothing
        torch.set_rng_state(now)  # the steps to come draw what they drew uninterrupted
        return it


def _check_excluded(exclude_archs: Sequence[str], archs: set[str]) -> None:
    """Every held-out architecture must be one of the zoos': a typo held out nothing, silently (the heldout split
    was empty and the bench's held-out figure had no networks)."""
    from metanet.errors import ConfigError
    from metanet.nets import Arch

    for a in exclude_archs:
        if str(Arch.coerce(a)) not in archs:
            raise ConfigError(f"exclude_archs: no network of the zoos has architecture {a!r}; their architectures: "
                              f"{', '.join(sorted(archs)[:12])}{' ...' if len(archs) > 12 else ''}")


class ReaderDataModule(L.LightningDataModule):
    """Graphs of zoo networks with reader targets.

    Args:
        zoos: zoo directories (their networks are pooled; each zoo is split by its own runs).
        tasks: task list of the reader's task head (default: the union of the zoos' tasks, sorted).
        batch_size: graphs per step (per process under DDP, where each process trains on its share of the training
            networks, Lightning's DistributedSampler; every process evaluates all val / test networks).
        max_nets: at most this many training networks per zoo (a seeded sample; val/test get an eighth each, at
            least one).
        fractions, seed: the run split.
        exclude_archs: architectures kept out of training entirely (held out for the bench).
        role_examples: train images per task used for the neuron-role targets.
    """

    def __init__(self, zoos: Sequence[str] = ("zoos/tiny",), tasks: Sequence[str] | None = None,
                 batch_size: int = 16, max_nets: int | None = None, fractions: Sequence[float] = (0.8, 0.1, 0.1),
                 seed: int = 0, exclude_archs: Sequence[str] = (), role_examples: int = 256) -> None:
        given = dict(locals())  # its options, read as self._options (own_options), not through self.hparams
        super().__init__()
        from metanet.errors import ConfigError, check_whole

        check_whole("reader data batch_size", batch_size, 1)
        if isinstance(zoos, str) or not list(zoos):  # a bare string would be read as one zoo per character
            raise ConfigError(f"reader data zoos must be a list of at least one zoo directory, got {zoos!r}")
        for name, v in (("tasks", tasks), ("exclude_archs", exclude_archs)):
            if isinstance(v, str):  # likewise: tasks "mnist" was the task list ['m', 'n', 'i', 's', 't']
                raise ConfigError(f"reader data {name} must be a list, got the string {v!r} (for one: [{v!r}])")
        self.save_hyperparameters()
        self._options = own_options(self, ReaderDataModule, given)  # a subclass's hparams are its own arguments
        self.train_graphs: list | None = None  # each split is loaded by the first setup() whose stage needs it
        self.val_graphs: list | None = None
        self.val_zoos: dict[str, list] | None = None
        self.test_graphs: list | None = None
        self._resume_rng: tuple[torch.Tensor, int] | None = None  # see state_dict()
        self._resume_batches: int | None = None  # the checkpoint's training batches of the whole fit
        self._epoch_rng: tuple[int, torch.Tensor] | None = None  # (epoch, RNG state its first iterator was made with)
        self._edge_dim: int | None = None  # edge_attr width of every graph, set by the first _load

    @property
    def hparams_initial(self):
        # what the loggers record (checkpoints keep `hparams`): Lightning merges it with the module's and raised
        # "Error while merging hparams: the keys ['tasks'] ..." whenever a fit with a logger had the task head know
        # other tasks than the data's (tasks=None, the default, means the zoos' own), so the data's are data_tasks
        h = super().hparams_initial  # a copy
        if "tasks" in h:
            h["data_tasks"] = h.pop("tasks")
        return h

    @property
    def task_names(self) -> list[str]:
        if self._options.tasks:
            return list(self._options.tasks)
        # the zoos' own, read once: the module asks on every batch, and each read opened every zoo and scanned
        # its whole index (seconds per batch for a large zoo)
        zoos = tuple(str(z) for z in self._options.zoos)
        cached = getattr(self, "_zoo_tasks", None)
        if cached is None or cached[0] != zoos:
            from metanet.zoo import Zoo

            names: set[str] = set()
            for z in zoos:
                with Zoo(z) as zoo:
                    names.update(zoo.tasks)
            cached = self._zoo_tasks = (zoos, sorted(names))
        return list(cached[1])

    def _load(self, split: str, max_nets: int | None) -> dict[str, list]:
        from metanet.reader.data import zoo_graphs
        from metanet.zoo import Zoo
        from metanet.zoo.dataset import edge_width

        h = self._options
        if self._edge_dim is None:  # once for all splits: graphs of every zoo batch together (MLPs with CNNs)
            widths, archs = [], set()
            for z in h.zoos:
                with Zoo(z) as zoo:  # closed: two connections per zoo were left open
                    widths.append(edge_width(zoo))
                    archs.update(zoo.archs)
            self._edge_dim = max(widths)
            _check_excluded(h.exclude_archs, archs)
        return {z: zoo_graphs(z, split, self.task_names, h.fractions, h.seed, h.exclude_archs, max_nets,
                              role_examples=h.role_examples, edge_dim=self._edge_dim) for z in h.zoos}

    @with_metanet_defaults()  # under a float64 default the graphs came out float64 (a raw index_copy_ error)
    def setup(self, stage: str | None = None) -> None:
        """Load the splits ``stage`` needs, once each: ``fit`` (or None) all three, ``validate`` the val split,
        ``test`` the test split. ``metanet train validate`` built the whole train split first (every zoo's training
        networks and their neuron roles: minutes for train/reader.yaml) only to leave it unused."""
        m = self._options.max_nets
        small = None if m is None else max(1, m // 8)
        fit = stage in (None, "fit")
        if fit and self.train_graphs is None:
            self.train_graphs = [g for gs in self._load("train", m).values() for g in gs]
        if (fit or stage == "validate") and self.val_graphs is None:
            #: val graphs per zoo directory (the trigger scan's head is fitted on the zoos with backdoors)
            self.val_zoos = self._load("val", small)
            self.val_graphs = [g for gs in self.val_zoos.values() for g in gs]
        if (fit or stage == "test") and self.test_graphs is None:
            self.test_graphs = [g for gs in self._load("test", small).values() for g in gs]

    # A resumed fit (ckpt_path=...) shuffles as the uninterrupted one did. The train loader's RandomSampler has no
    # generator of its own: each epoch's order is drawn from torch's global RNG when the epoch's iterator is made (so
    # is the loader's base seed), and Lightning neither saves nor restores that RNG, so a resumed run used to shuffle
    # from the state its own start left instead. The state is saved with every checkpoint (with the step it was
    # saved at); a fit resumed from one puts it back each time it makes a train iterator before its first training
    # step (a checkpoint saved as validation ends an epoch makes Lightning open one iterator for the finished epoch
    # first). Saving only reads the state, so an uninterrupted fit draws exactly the numbers it did.
    # A checkpoint saved mid-epoch (ModelCheckpoint(every_n_train_steps=...), or Lightning's own bookkeeping when a
    # max_steps fit saved at an epoch's end without validation is resumed) makes Lightning restart the epoch's
    # iterator: it is made again from the state the epoch's order was drawn from (saved too) and skips the batches
    # already trained on; it used to shuffle anew and train on the epoch's first batches again.
    # The checkpoint's count of training batches places an iterator made before Lightning restores its loops:
    # ReaderModule's cosine schedule (train/reader.yaml) asks for trainer.estimated_stepping_batches while the
    # optimisers are configured, which makes the resumed epoch's only iterator then. Placed by Lightning's count (0
    # then), it was a fresh shuffle from the fit's first batch, and a fit resumed mid-epoch trained on other networks.
    def state_dict(self) -> dict[str, Any]:
        step = self.trainer.global_step if self.trainer is not None else 0
        state = {"torch_rng_state": torch.get_rng_state(), "global_step": step}
        loop = getattr(self.trainer, "fit_loop", None) if self.trainer is not None else None
        if loop is not None:
            # the batches Lightning counts as done once it restores this: a step saved as it ends (on_train_batch_end)
            # counts; one stopped inside (OnExceptionCheckpoint) does not, it is run again (its batch was `ready`)
            total = loop.epoch_loop.batch_progress.total
            ended = total.ready == total.started == total.processed == total.completed + 1
            state["batches"] = int(total.ready if ended else total.completed)
        if self._epoch_rng is not None:
            state["epoch"], state["epoch_rng_state"] = self._epoch_rng
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        from lightning.pytorch.trainer.states import TrainerFn

        fitting = self.trainer is not None and self.trainer.state.fn == TrainerFn.FITTING
        if fitting and "torch_rng_state" in state_dict:  # not when a checkpoint is only validated or tested
            self._resume_rng = (state_dict["torch_rng_state"], int(state_dict["global_step"]))
            self._resume_batches = int(state_dict["batches"]) if "batches" in state_dict else None
            if "epoch_rng_state" in state_dict:  # not in checkpoints of earlier versions
                self._epoch_rng = (int(state_dict["epoch"]), state_dict["epoch_rng_state"])

    def _before_train_iter(self) -> tuple[int, torch.Tensor] | None:
        done = None
        if self._resume_rng is not None:
            state, step = self._resume_rng
            if self.trainer is not None and self.trainer.global_step <= step:
                torch.set_rng_state(state)
                counted = int(self.trainer.fit_loop.epoch_loop.batch_progress.total.ready)
                if self._resume_batches is not None and counted < self._resume_batches:  # loops not restored yet
                    done = self._resume_batches
            else:
                self._resume_rng = self._resume_batches = None
        from metanet.train.stage import fit_position

        pos = fit_position(self.trainer, done=done)
        if pos is None:
            return None
        epoch, skip = pos
        if skip == 0:  # an epoch's first iterator: what a restart of this epoch must shuffle from
            self._epoch_rng = (epoch, torch.get_rng_state())
            return None
        if self._epoch_rng is not None and self._epoch_rng[0] == epoch:
            return skip, self._epoch_rng[1]
        return None

    def teardown(self, stage: str) -> None:
        self._resume_rng = self._resume_batches = None
        self._epoch_rng = None

    def train_dataloader(self):
        loader = _TrainLoader(self.train_graphs, batch_size=self._options.batch_size, shuffle=True)
        loader.before_iter = self._before_train_iter
        return loader

    def val_dataloader(self):
        return self._eval_loader(self.val_graphs)

    def test_dataloader(self):
        return self._eval_loader(self.test_graphs)

    def _eval_loader(self, graphs: list) -> DataLoader:
        # every process evaluates every graph: Kendall tau, R^2 and AUROC are not means over batches, and with
        # Lightning's DDP sampler each process computed them on its own half (and logged that half's). A sampler
        # that already is a DistributedSampler is left alone by Lightning; with one replica it is the plain order.
        from torch.utils.data.distributed import DistributedSampler

        sampler = DistributedSampler(graphs, num_replicas=1, rank=0, shuffle=False)
        return DataLoader(graphs, batch_size=self._options.batch_size * 2, sampler=sampler)


LOSS_WEIGHTS = {"accuracy": 20.0, "task": 1.0, "backdoor": 1.0, "log_lr": 0.5, "log_epoch": 0.5, "activation": 0.2,
                "optimizer": 0.5, "role": 0.5}


def reader_losses(out: dict[str, Tensor], batch: Any, weights: dict[str, float] | None = None) -> dict[str, Tensor]:
    """Per-head losses (targets that are unknown, -1 or NaN, are skipped) and their weighted ``total``."""
    w = {**LOSS_WEIGHTS, **(weights or {})}
    losses: dict[str, Tensor] = {"accuracy": F.mse_loss(out["accuracy"], batch.y_acc)}
    # a backdoored run's epoch-0 checkpoint is its initialisation: no backdoor has been implanted yet, so it is no
    # positive example (it would only teach the head noise)
    ok = ~((batch.y_backdoor > 0.5) & (batch.y_log_epoch == 0))
    if ok.any():
        losses["backdoor"] = F.binary_cross_entropy_with_logits(out["backdoor"][ok], batch.y_backdoor[ok])
    for key, target in (("log_lr", batch.y_log_lr), ("log_epoch", batch.y_log_epoch)):
        ok = torch.isfinite(target)
        if ok.any():
            losses[key] = F.mse_loss(out[key][ok], target[ok])
    for key, target in (("task", batch.y_task), ("activation", batch.y_act), ("optimizer", batch.y_opt),
                        ("role", batch.y_role)):
        ok = target >= 0
        if ok.any():
            losses[key] = F.cross_entropy(out[key][ok], target[ok])
    losses["total"] = sum(w[k] * v for k, v in losses.items())
    return losses


def kendall_tau(a: Tensor, b: Tensor) -> float:
    """Kendall tau-b of two rankings (NaN if undefined: fewer than two values, or either side constant)."""
    from scipy.stats import kendalltau

    if len(a) < 2 or bool((a == a[0]).all()) or bool((b == b[0]).all()):
        return float("nan")  # scipy warns ("input is constant") before returning NaN
    return float(kendalltau(a.numpy(), b.numpy()).statistic)


def r2(pred: Tensor, true: Tensor) -> float:
    """Coefficient of determination (NaN if undefined: fewer than two targets, or all targets equal)."""
    # equal targets told by equality, not by st == 0: a float32 mean of seven 0.1s is off by an ulp, and st of about
    # 1e-16 made R^2 about -5e15; in float64, as sklearn.metrics.r2_score computes it
    if len(true) < 2 or bool((true == true[0]).all()):  # was 1 - ss / 1e-12: about -1e10 logged as the val R^2
        return float("nan")
    pred, true = pred.double(), true.double()
    ss = ((true - pred) ** 2).sum()
    st = ((true - true.mean()) ** 2).sum()
    return float(1 - ss / st)


def auroc(score: Tensor, label: Tensor) -> float:
    """Area under the ROC curve (NaN if only one class is present)."""
    pos, neg = score[label > 0.5], score[label <= 0.5]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).float().mean()
    ties = (pos[:, None] == neg[None, :]).float().mean()
    return float(greater + 0.5 * ties)


def metrics(pred: dict[str, Tensor], target: dict[str, Tensor]) -> dict[str, float]:
    """Summary metrics over concatenated predictions (``accuracy``, ``task``, ``backdoor``, ``role`` ...). A metric the
    data leave undefined is NaN: ``kendall_tau`` and ``r2`` with fewer than two networks or constant targets,
    ``backdoor_auroc`` without both labels."""
    m = {"kendall_tau": kendall_tau(pred["accuracy"], target["y_acc"]), "r2": r2(pred["accuracy"], target["y_acc"]),
         "mae": float((pred["accuracy"] - target["y_acc"]).abs().mean())}
    ok = target["y_task"] >= 0
    if ok.any():
        m["task_acc"] = float((pred["task"][ok].argmax(1) == target["y_task"][ok]).float().mean())
    m["backdoor_auroc"] = auroc(pred["backdoor"], target["y_backdoor"])
    ok = torch.isfinite(target["y_log_lr"])
    if ok.any():
        m["log_lr_mae"] = float((pred["log_lr"][ok] - target["y_log_lr"][ok]).abs().mean())
    m["epoch_mae"] = float((pred["log_epoch"].expm1() - target["y_log_epoch"].expm1()).abs().mean())
    ok = target["y_opt"] >= 0
    if ok.any():
        m["optimizer_acc"] = float((pred["optimizer"][ok].argmax(1) == target["y_opt"][ok]).float().mean())
    ok = target["y_role"] >= 0
    if ok.any():
        m["role_acc"] = float((pred["role"][ok].argmax(1) == target["y_role"][ok]).float().mean())
    return m


@torch.no_grad()
def predict_graphs(reader: Reader, graphs: Sequence[Any], batch_size: int = 64) -> tuple[dict, dict]:
    """Predictions and targets over a list of graphs, concatenated (for metrics and the bench). The graphs need the
    reader targets :func:`metanet.reader.data.zoo_graphs` attaches."""
    from metanet.errors import GraphError
    from metanet.reader.model import batch_graphs

    keys = ("y_acc", "y_task", "y_backdoor", "y_log_lr", "y_log_epoch", "y_opt", "y_role")
    for i, g in enumerate(graphs):  # a fresh to_graph graph failed with a KeyError / AttributeError mid-way
        missing = [k for k in keys if k not in g]
        if missing:
            raise GraphError(f"graph {i} has no reader targets {missing}: predict_graphs() compares predictions with "
                             "the targets metanet.reader.data.zoo_graphs attaches (for predictions alone, call the "
                             "reader on the graphs)")
    preds: dict[str, list] = {}
    targets: dict[str, list] = {}
    reader.eval()
    for lo in range(0, len(graphs), batch_size):
        b = batch_graphs(list(graphs[lo:lo + batch_size]))
        out = reader(b)
        for k in ("accuracy", "task", "backdoor", "log_lr", "log_epoch", "optimizer", "role"):
            preds.setdefault(k, []).append(out[k])
        for k in keys:
            targets.setdefault(k, []).append(getattr(b, k))
    return ({k: torch.cat(v) for k, v in preds.items()}, {k: torch.cat(v) for k, v in targets.items()})


class ReaderModule(L.LightningModule):
    """Trains a :class:`Reader` on zoo graphs with a weighted multi-task loss.

    Args:
        tasks: task names of the task head (must cover the data module's zoos' tasks; order = class order).
        hidden, layers, edge_dim, max_layers, max_inputs, num_classes, stats, probes, probe_inputs, data_probes,
            saliency, derived_probes, task_evidence, task_cap: the Reader's; the data probes are filled from each
            base data set's val split in ``setup`` (never the test split the accuracy targets are measured on).
        scan_steps: > 0 gives the reader a trigger scan (:mod:`metanet.reader.scan`) of that many Neural Cleanse
            steps; its head is fitted when training ends, on the val networks of the zoos that hold backdoored
            ones (never on training networks), before the export. The Lightning ``.ckpt`` files are saved before
            that: a reader loaded from one has the scan head unfitted (the export has it). Without two or more val
            networks of each label (backdoored, clean) the head stays unfitted, with a warning, and the export is
            still written; a ``fast_dev_run`` (which exports nothing) skips it.
        lr, weight_decay: AdamW.
        schedule: ``"constant"`` or ``"cosine"`` (per step, to 5 % of ``lr`` over the trainer's planned steps: it
            needs ``max_epochs`` or ``max_steps``; a ``max_time`` stop ends it early).
        loss_weights: overrides of :data:`LOSS_WEIGHTS`.
        export: where to write the trained reader (safetensors) when fitting ends.
    """

    # the metrics a fit logs (train/loss_<head>, val/loss_<head>: one per head of LOSS_WEIGHTS; val/<metric>: those
    # of metrics()), which a callback's `monitor` may name
    LOGGED = ("train/loss", *(f"train/loss_{k}" for k in LOSS_WEIGHTS), "val/loss",
              *(f"val/loss_{k}" for k in LOSS_WEIGHTS), "val/acc_mse_of_mean", "val/kendall_tau", "val/r2", "val/mae",
              "val/task_acc", "val/backdoor_auroc", "val/log_lr_mae", "val/epoch_mae", "val/optimizer_acc",
              "val/role_acc", "hp_metric")

    def __init__(self, tasks: Sequence[str] = ("digits", "fashion-mnist", "mnist"), hidden: int = 32, layers: int = 2,
                 edge_dim: int = 9, max_layers: int = 8, max_inputs: int = 1024, num_classes: int = 10,
                 stats: bool = True, probes: int = 32, probe_inputs: Sequence[int] = (784, 64, 40),
                 data_probes: int = 0, saliency: bool = False, derived_probes: int = 0, task_evidence: float = 0.0,
                 scan_steps: int = 0, lr: float = 2e-3, weight_decay: float = 1e-4,
                 loss_weights: dict[str, float] | None = None, export: str | None = None,
                 schedule: str = "constant", task_cap: float = 0.0) -> None:
        given = dict(locals())  # its options, read as self._options (own_options), not through self.hparams
        super().__init__()
        from metanet.errors import ConfigError, check_number

        # a misspelt key or schedule was silently ignored (default weight, constant lr)
        unknown = sorted(set(loss_weights or {}) - set(LOSS_WEIGHTS))
        if unknown:
            raise ConfigError(f"loss_weights: unknown heads {unknown}; the heads are {sorted(LOSS_WEIGHTS)}")
        bad = {k: v for k, v in (loss_weights or {}).items()
               if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < math.inf}
        if bad:  # inf made the total loss inf (or NaN with a zero head loss): every step skipped or poisoned
            raise ConfigError(f"loss_weights must be finite numbers >= 0, got {bad}")
        if schedule not in ("constant", "cosine"):
            raise ConfigError(f"schedule must be 'constant' or 'cosine', got {schedule!r}")
        # checked here, not by AdamW when the fit starts (a ValueError traceback after the data was loaded)
        check_number("lr", lr, "> 0", lambda v: v > 0)
        check_number("weight_decay", weight_decay, ">= 0", lambda v: v >= 0)
        from metanet.train.stage import check_flag

        for name, v in (("stats", stats), ("saliency", saliency)):  # "no" was truthy: the features were on
            check_flag(name, v)
        self.save_hyperparameters()
        self._options = own_options(self, ReaderModule, given)  # a subclass's hparams are its own arguments
        # a string goes as it is, for the Reader's error (list("mnist") was five one-letter tasks)
        self.reader = Reader(tasks if isinstance(tasks, str) else list(tasks), hidden, layers, edge_dim, max_layers,
                             max_inputs, num_classes, stats,
                             probes, list(probe_inputs), data_probes, saliency, derived_probes, task_evidence,
                             scan_steps, task_cap)
        self._val: list = []
        self._warned: set[str] = set()  # undefined metrics already warned about

    def setup(self, stage: str | None = None) -> None:
        from metanet.train.stage import check_export, check_monitors, check_precision

        check_precision(self)  # bf16 autocast: torch's sparse message passing raised deep in the first step
        if stage == "fit":
            check_export(self)
            check_monitors(self, self.LOGGED)
        dm = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        if dm is None:
            return
        missing = sorted(set(dm.task_names) - set(self.reader.tasks))
        if missing:
            from metanet.errors import ZooError

            held = "data.tasks names" if options(dm).get("tasks") else "the zoos hold"  # given, or read
            raise ZooError(f"{held} tasks {missing} that the reader's task head does not know; "
                           f"set model.tasks to include them (now {self.reader.tasks})")
        if stage == "fit" and not bool(self.reader.fitted):
            if self.reader.num_data_probes:
                self.reader.fill_data_probes("val", seed=int(options(dm).get("seed", 0)))
            dm.setup(stage)
            self.reader.fit_normalisation(dm.train_graphs)  # training split only

    def on_train_start(self) -> None:
        from metanet.train.stage import ddp_sigterm

        ddp_sigterm(self)  # under DDP: SIGTERM stops every process at the same batch (Lightning's handler could hang)
        # a fit on plain dataloaders (no ReaderDataModule): setup had no training split, so the reader trained and was
        # exported on raw weights with empty data probes, and a validate afterwards warned it was untrained. Here
        # the train loader exists; a resumed fit has `fitted` from its checkpoint, a data module's fit from setup
        if bool(self.reader.fitted):
            return
        graphs = getattr(self.trainer.train_dataloader, "dataset", None)
        if graphs is None:
            return
        if isinstance(graphs, torch.utils.data.IterableDataset):
            from lightning.pytorch.utilities import rank_zero_warn

            # a stream, maybe endless, is not read whole here (list() of one never returned, before any step)
            rank_zero_warn("the reader's normalisation was not fitted: its training data is an IterableDataset, "
                           "which is not read whole before training; call module.reader.fit_normalisation(graphs) "
                           "on training graphs before the fit, or use metanet.reader.lightning.ReaderDataModule")
            return
        if self.reader.num_data_probes:
            self.reader.fill_data_probes("val", seed=0)
        self.reader.fit_normalisation(list(graphs))  # every process the whole dataset: the same statistics

    def forward(self, batch: Any) -> dict[str, Tensor]:
        return self.reader(batch)

    def _remap(self, batch: Any) -> Any:
        dm = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        if dm is not None and list(dm.task_names) != self.reader.tasks:
            lut = torch.tensor([self.reader.tasks.index(t) for t in dm.task_names] + [-1], device=batch.y_task.device)
            batch.y_task = lut[batch.y_task]
        return batch

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        from metanet.train.stage import ddp_sigterm_agreed

        ddp_sigterm_agreed(self)

    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        batch = self._remap(batch)
        losses = reader_losses(self.reader(batch), batch, self._options.loss_weights)
        logged: dict[str, Any] = losses
        if self._trainer is not None and self.trainer.world_size > 1:
            # every process, every batch: the losses over all processes' networks (each logged its own, and
            # TensorBoard showed process 0's); a head without targets on a process is left out of its mean
            from metanet.train.stage import summed_over_processes

            keys = [*LOSS_WEIGHTS, "total"]  # reader_losses' keys, in one order on every process
            n = float(batch.num_graphs)
            mine: dict[str, float] = {}
            for k in keys:  # its networks' count and loss sum per head
                mine[f"n/{k}"], mine[k] = (n, float(losses[k].detach()) * n) if k in losses else (0.0, 0.0)
            s = summed_over_processes(self, mine)
            logged = {k: s[k] / s[f"n/{k}"] for k in keys if s[f"n/{k}"] > 0}
        for k, v in logged.items():  # named as the val/... ones: train/loss, train/loss_accuracy, ...
            self.log(f"train/loss_{k}" if k != "total" else "train/loss", v, batch_size=batch.num_graphs,
                     prog_bar=(k == "total"))
        total = losses["total"]
        if self._trainer is not None and self.trainer.world_size > 1:
            # DDP needs every parameter in the graph; the probe banks of input shapes absent from this batch are not
            total = total + 0.0 * sum(p.reshape(-1)[0] for p in self.reader.parameters())
        return total

    def _warn_untrained(self) -> None:
        """One warning line when ``validate`` / ``test`` runs a reader no checkpoint was loaded into (after Lightning
        restored ``--ckpt_path``, so a given checkpoint has set ``fitted``): its normalisation is unfitted and its data
        probes are empty, and its metrics, logged as any others, described random weights."""
        from lightning.pytorch.trainer.states import TrainerFn

        if self._trainer is None or self.trainer.state.fn == TrainerFn.FITTING or bool(self.reader.fitted):
            return
        from lightning.pytorch.utilities import rank_zero_warn

        stage = "validate" if self.trainer.state.fn == TrainerFn.VALIDATING else "test"
        probes = ", data probes empty" if self.reader.num_data_probes else ""
        rank_zero_warn(f"metanet train {stage}: no checkpoint was given, so an untrained reader is evaluated (random "
                       f"weights, normalisation not fitted{probes}); pass one with --ckpt_path PATH (e.g. "
                       "runs/reader/version_0/checkpoints/last.ckpt, or last; in Python trainer."
                       f"{stage}(..., ckpt_path=PATH))")

    def on_validation_start(self) -> None:
        self._warn_untrained()

    def on_test_start(self) -> None:
        self._warn_untrained()

    def on_validation_epoch_start(self) -> None:
        self._val = []

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self._eval_step(batch, "val")

    def on_validation_epoch_end(self) -> None:
        self._eval_end("val")

    # `metanet train test`: the data module's test split (held-out runs), logged as test/...
    def on_test_epoch_start(self) -> None:
        self._val = []

    def test_step(self, batch: Any, batch_idx: int) -> None:
        self._eval_step(batch, "test")

    def on_test_epoch_end(self) -> None:
        self._eval_end("test")

    def _eval_step(self, batch: Any, split: str) -> None:
        batch = self._remap(batch)
        out = self.reader(batch)
        # the losses are computed over the whole split in _eval_end: logged per batch, Lightning's mean weighted by
        # graphs per batch was not the split's loss for the neuron-level role head or heads with unknown targets
        self._val.append(({k: out[k].detach().cpu() for k in ("accuracy", "task", "backdoor", "log_lr", "log_epoch",
                                                                "activation", "optimizer", "role")},
                          {k: getattr(batch, k).cpu() for k in ("y_acc", "y_task", "y_backdoor", "y_log_lr",
                                                                 "y_log_epoch", "y_act", "y_opt", "y_role")}))

    def _eval_end(self, split: str) -> None:
        if not self._val or len(self._val[0][0]["accuracy"]) == 0:
            return
        pred = {k: torch.cat([p[k] for p, _ in self._val]) for k in self._val[0][0]}
        tgt = {k: torch.cat([t[k] for _, t in self._val]) for k in self._val[0][1]}
        from types import SimpleNamespace

        # over every network (and labelled neuron) of the split, whatever the eval batch size; synced: equal on every
        # process (each evaluates every graph), and Lightning warned under DDP that these values were not. On the
        # module's device, as Lightning puts the floats logged below: NCCL cannot all-reduce these CPU tensors
        for k, v in reader_losses(pred, SimpleNamespace(**tgt), self._options.loss_weights).items():
            self.log(f"{split}/loss_{k}" if k != "total" else f"{split}/loss", v.to(self.device), sync_dist=True)
        # a split of one network used to log nothing at all; now every metric it defines is logged
        m = metrics(pred, tgt)
        mean_mse = float(((tgt["y_acc"] - tgt["y_acc"].mean()) ** 2).mean())
        self.log(f"{split}/acc_mse_of_mean", mean_mse, sync_dist=True)  # synced as the losses above
        undefined = []
        for k, v in m.items():
            if v == v:  # NaN: undefined on these networks (e.g. no backdoored ones), not logged
                self.log(f"{split}/{k}", v, prog_bar=k in ("kendall_tau",), sync_dist=True)
            else:
                undefined.append(k)
        new = sorted({f"{split}/{k}" for k in undefined} - self._warned)
        if new and not (self._trainer is not None and self.trainer.sanity_checking):
            from lightning.pytorch.utilities import rank_zero_warn

            self._warned.update(new)  # once per metric, not every validation
            n = len(tgt["y_acc"])
            rank_zero_warn(f"{', '.join(new)} not logged: undefined on these {n} "
                           f"network(s) (Kendall tau and R^2 need two or more networks of different accuracies, "
                           "backdoor AUROC both backdoored and clean ones)")
        if split == "val" and m["kendall_tau"] == m["kendall_tau"]:
            self.log("hp_metric", m["kendall_tau"], sync_dist=True)  # the hparams tab's metric (else Lightning's -1)
        self._figures(pred, tgt, split)

    def _figures(self, pred: dict, tgt: dict, split: str = "val") -> None:
        from metanet.train.stage import figure_step, summary_writers

        exps = summary_writers(self)  # every logger that takes figures (a CSVLogger listed first does not)
        step = figure_step(self)  # at the step of the scalars logged with them; None in the sanity check
        if not exps or step is None:
            return
        # plain Figures, as metanet.inspect.pictures draws: pyplot's matplotlib.use("Agg") switched the process's
        # backend (a notebook's inline one too) and closed every figure the user had open, at each validation
        from matplotlib.figure import Figure

        fig = Figure(figsize=(4, 4))
        ax = fig.subplots()
        ax.scatter(tgt["y_acc"].numpy(), pred["accuracy"].numpy(), s=4, alpha=0.5)
        ax.plot([0, 1], [0, 1], "k--", lw=0.8)
        ax.set_xlabel("true test accuracy")
        ax.set_ylabel("predicted")
        ax.set_title(f"reader: accuracy ({split})")
        fig.tight_layout()
        for exp in exps:
            exp.add_figure(f"{split}/accuracy_scatter", fig, global_step=step)
        ok = tgt["y_task"] >= 0
        k = len(self.reader.tasks)
        cm = torch.zeros(k, k)
        for t, p in zip(tgt["y_task"][ok].tolist(), pred["task"][ok].argmax(1).tolist()):
            cm[t, p] += 1
        side = max(4.0, 2.5 + 0.2 * k)  # room for the task names (29 in train/reader.yaml)
        fig = Figure(figsize=(side, side))
        ax = fig.subplots()
        ax.imshow(cm.numpy(), cmap="Blues")
        ax.set_xticks(range(k), self.reader.tasks, rotation=90, fontsize=6)
        ax.set_yticks(range(k), self.reader.tasks, fontsize=6)
        ax.set_xlabel("predicted task")
        ax.set_ylabel("true task")
        fig.tight_layout()
        for exp in exps:
            exp.add_figure(f"{split}/task_confusion", fig, global_step=step)

    def on_fit_end(self) -> None:
        if self.global_rank != 0:
            return
        dm = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        # not after a fast_dev_run, which exports nothing: the scan runs Neural Cleanse on every val network of the
        # backdoor zoos (minutes for train/reader.yaml's), the opposite of a smoke test
        from metanet.train.stage import debug_run

        smoke = debug_run(self) is not None  # fast_dev_run, overfit_batches: no export to fit the scan head for
        if self.reader.scan_steps and dm is not None and getattr(dm, "val_zoos", None) and not smoke:
            from lightning.pytorch.utilities import rank_zero_warn

            from metanet.errors import GraphError
            from metanet.reader.scan import fit_scan

            graphs = [g for gs in dm.val_zoos.values() if any(float(g.y_backdoor) > 0 for g in gs) for g in gs]
            unfitted = (f"scan_steps={self.reader.scan_steps} but the reader's trigger-scan head was not fitted "
                        "({}); the export reads backdoors with the weights-only head (metanet.read skips the scan): "
                        "add a zoo with backdoored networks to data.zoos (and enough of its val networks: "
                        "data.max_nets), fit it with metanet.reader.scan.fit_scan, or set model.scan_steps to 0")
            if not graphs:  # the export's scan head was left unfitted without a word
                rank_zero_warn(unfitted.format("no val network of the zoos is backdoored"))
            else:
                try:
                    fit = fit_scan(self.reader, graphs)
                except GraphError as e:  # too few of a label: the whole fit ended in this error, with no export
                    rank_zero_warn(unfitted.format(f"on {len(graphs)} val networks: {e}"))
                else:
                    from metanet.train.stage import summary_writers

                    for exp in summary_writers(self, "add_text"):
                        exp.add_text("scan_head", json.dumps(fit))
        from metanet.train.stage import export_at_fit_end

        export_at_fit_end(self, self.reader.save)

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.reader.parameters(), lr=self._options.lr, weight_decay=self._options.weight_decay)
        if self._options.schedule != "cosine" or self._trainer is None:
            return opt
        # cosine decay to 5 % of lr over the planned steps (max_epochs; a max_time stop ends it early)
        total = self.trainer.estimated_stepping_batches
        if not math.isfinite(total):  # max_epochs=-1 (the default once only max_time is set): int(inf) raised
            from metanet.errors import ConfigError

            raise ConfigError("schedule 'cosine' decays over the trainer's planned steps; this trainer plans no end "
                              "(max_epochs=-1, or only max_time set): set trainer.max_epochs or trainer.max_steps, "
                              "or use schedule 'constant'")
        total = max(1, int(total))
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda step: 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(step, total) / total)))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
