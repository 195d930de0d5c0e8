"""A loop fit resumed from a checkpoint saved after a round (train/loop.yaml saves last.ckpt every round) runs the
validations an uninterrupted fit runs from that point on, at the same steps with the same scores: one taken after an
epoch's last round precedes that epoch's validation, which Lightning skipped on resume."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from lightning.pytorch.loggers.logger import Logger

from metanet.loop.lightning import LoopDataModule, LoopModule

MONITOR = "heldout/accuracy_best_of_k"


class _Validations(Callback):
    """(global step, held-out score) of every validation of the fit (not the sanity check)."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, float]] = []

    def on_validation_end(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking:
            self.seen.append((trainer.global_step, round(float(trainer.callback_metrics[MONITOR]), 6)))


class _Steps(Logger):
    """The steps the held-out metric is logged at (what TensorBoard's x axis shows)."""

    def __init__(self) -> None:
        super().__init__()
        self.steps: list[int] = []

    @property
    def name(self) -> str:
        return "steps"

    @property
    def version(self) -> int:
        return 0

    def log_metrics(self, metrics, step=None) -> None:
        if MONITOR in metrics:
            self.steps.append(step)

    def log_hyperparams(self, params, *args, **kwargs) -> None:
        pass


def _fit(tmp, max_steps: int, ckpt: str | None = None, rounds: int = 3, **trainer_args):
    L.seed_everything(0)
    m = LoopModule(writer=None, hidden=8, message=4, candidates=2, lr=1e-2)
    d = LoopDataModule(bases=("digits",), tasks_per_round=1, rounds_per_epoch=rounds, shots_min=5, shots_max=10,
                       query=4, heldout_tasks=1, seed=0)
    vals, log = _Validations(), _Steps()
    # as train/loop.yaml: last.ckpt after every round, and the writers by the held-out score (all kept here)
    last = ModelCheckpoint(dirpath=str(tmp), save_last=True, save_top_k=0, every_n_train_steps=1)
    best = ModelCheckpoint(dirpath=str(tmp), filename="best-{epoch}-{step}", monitor=MONITOR, mode="max", save_top_k=-1)
    t = L.Trainer(max_steps=max_steps, max_epochs=2, accelerator="cpu", logger=log, enable_progress_bar=False,
                  enable_model_summary=False, num_sanity_val_steps=0, callbacks=[last, best, vals],
                  deterministic=True, reload_dataloaders_every_n_epochs=1, **trainer_args)
    t.fit(m, d, ckpt_path=ckpt)
    return m, vals.seen, log.steps, t


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """``uninterrupted(rounds, **trainer_args)``: (its folder, module, validations, steps) of the uninterrupted fit,
    run once per module for each setting: a fit is deterministic (seed_everything(0), deterministic=True), so the
    tests sharing a setting compared with the same fit run again; read-only for them."""
    fits = {}

    def get(rounds: int = 3, **trainer_args):
        key = (rounds, tuple(sorted(trainer_args.items())))
        if key not in fits:
            folder = tmp_path_factory.mktemp("uninterrupted")
            full, vals, steps, _ = _fit(folder, -1, rounds=rounds, **trainer_args)
            fits[key] = folder, full, vals, steps
        return fits[key]

    return get


@pytest.mark.parametrize("kill, rounds, trainer_args", [
    (3, 3, {}),  # after an epoch's last round: its validation was skipped
    (2, 3, {}),  # mid-epoch
    (4, 3, {}),  # after the skipped-before validation's step: not run twice
    (3, 3, {"check_val_every_n_epoch": 2}),  # an epoch that does not validate: none added
    (2, 4, {"val_check_interval": 2}),  # a mid-epoch validation
])
def test_a_resumed_loop_fit_validates_as_an_uninterrupted_one(tmp_path, uninterrupted, kill, rounds, trainer_args):
    _, full, vals_full, steps_full = uninterrupted(rounds, **trainer_args)
    _fit(tmp_path / "b", kill, rounds=rounds, **trainer_args)  # "killed" after `kill` rounds
    resumed, vals, steps, t = _fit(tmp_path / "b", -1, ckpt=str(tmp_path / "b" / "last.ckpt"), rounds=rounds,
                                   **trainer_args)
    assert t.global_step == full.global_step == 2 * rounds
    assert vals == [v for v in vals_full if v[0] >= kill]
    assert steps == steps_full[len(steps_full) - len(steps):]  # logged at the uninterrupted fit's steps
    for (k, a), b in zip(full.writer.state_dict().items(), resumed.writer.state_dict().values()):
        assert torch.equal(a, b), k  # the validation changed neither the writer nor the rounds after it


def test_a_resumed_fit_saves_the_checkpoints_an_uninterrupted_one_does(tmp_path, uninterrupted):
    # train/loop.yaml's best checkpoint is chosen by the held-out score: the resumed fit lacked epoch 0's
    full = uninterrupted()[0]
    _fit(tmp_path / "b", 3)
    for f in (tmp_path / "b").glob("best-*.ckpt"):  # killed during epoch 0's validation, before these were saved
        f.unlink()
    _fit(tmp_path / "b", -1, ckpt=str(tmp_path / "b" / "last.ckpt"))
    names = sorted(f.name for f in full.glob("best-*.ckpt"))
    assert names == ["best-epoch=0-step=3.ckpt", "best-epoch=1-step=6.ckpt"]
    assert sorted(f.name for f in (tmp_path / "b").glob("best-*.ckpt")) == names
    for name in names:
        a, b = (torch.load(d / name, map_location="cpu", weights_only=True) for d in (full, tmp_path / "b"))
        assert a["global_step"] == b["global_step"]
        for k, v in a["state_dict"].items():
            assert torch.equal(v, b["state_dict"][k]), (name, k)


def test_only_a_fit_is_resumed_at_its_validation():
    # loading a checkpoint outside a fit (load_from_checkpoint, validate, test) leaves its progress as it is
    from metanet.train.stage import validate_on_resume

    m = LoopModule(writer=None, hidden=4, message=4)
    assert validate_on_resume(m, {"loops": {"fit_loop": {}}}) is False
    assert validate_on_resume(m, {}) is False
