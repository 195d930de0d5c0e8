"""The loop as a Lightning stage: it trains, logs, and a run stopped after a round (or mid-epoch, or killed in its
first epoch with train/loop.yaml's checkpoints) resumes from its checkpoint to the same writer; the best checkpoint
holds the writer its validation scored, a NaN candidate does not make the writer NaN, and the data's settings are
checked before the first round."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import lightning as L
import pytest
import torch
import yaml
from lightning.pytorch.callbacks import ModelCheckpoint

from metanet.errors import ConfigError
from metanet.loop.lightning import LoopDataModule, LoopModule
from lightning_helpers import check_smoke_run_keeps_the_export

CONFIG = Path(__file__).resolve().parents[2] / "train" / "loop.yaml"


def _parts():
    m = LoopModule(writer=None, hidden=8, message=4, candidates=3, lr=1e-2)
    d = LoopDataModule(bases=("digits",), tasks_per_round=1, rounds_per_epoch=2, shots_min=5, shots_max=10, query=20,
                       heldout_tasks=1, seed=0)
    return m, d


def _trainer(tmp, steps):
    ck = ModelCheckpoint(dirpath=str(tmp), save_last=True, every_n_train_steps=1)
    return L.Trainer(max_steps=steps, accelerator="cpu", logger=False, enable_progress_bar=False,
                     enable_model_summary=False, num_sanity_val_steps=0, limit_val_batches=0, callbacks=[ck],
                     deterministic=True)


def test_loop_stage_resumes_from_its_last_checkpoint(tmp_path):
    L.seed_everything(0)
    full, data = _parts()
    _trainer(tmp_path / "a", 2).fit(full, data)

    L.seed_everything(0)
    first, data = _parts()
    _trainer(tmp_path / "b", 1).fit(first, data)  # "killed" after its first round
    assert (tmp_path / "b" / "last.ckpt").is_file()
    resumed, data = _parts()
    t = _trainer(tmp_path / "b", 2)
    t.fit(resumed, data, ckpt_path=str(tmp_path / "b" / "last.ckpt"))
    assert t.global_step == 2
    for (k, a), b in zip(full.writer.state_dict().items(), resumed.writer.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), k
    assert "reward/mean" in t.callback_metrics


def test_loop_data_errors_before_the_first_round():
    from metanet.errors import ConfigError, TaskError

    with pytest.raises(ConfigError, match="tasks_per_round must be a whole number >= 1, got 0"):
        LoopDataModule(tasks_per_round=0).prepare_data()
    with pytest.raises(TaskError, match="unknown data set 'bogus'"):
        LoopDataModule(bases=("bogus",)).prepare_data()
    # no base: was torch's RuntimeError ("random_ expects 'from' to be less than 'to'") in the first round
    for bases in ([], ()):
        with pytest.raises(ConfigError, match=r"loop data bases must be a list of at least one data set name, e\.g\. "
                                              rf"\[digits, mnist1d\], got {re.escape(repr(bases))}"):
            LoopDataModule(bases=bases).prepare_data()


@pytest.mark.parametrize("lr", [0.0, -1.0, float("nan"), float("inf")])
def test_loop_module_refuses_a_learning_rate_like_improve(lr):
    # was Adam's ValueError ("Invalid learning rate") when the fit began (0 trained nothing, silently)
    from metanet.errors import ConfigError

    with pytest.raises(ConfigError, match=rf"need lr > 0 \(a finite number\), got {lr}"):
        LoopModule(writer=None, hidden=4, message=4, lr=lr)


def test_fast_dev_run_does_not_overwrite_the_export(tmp_path):
    from metanet.writer import Writer

    def make(export):
        m, d = _parts()
        m.hparams.export = export
        return m, d

    assert Writer.load(check_smoke_run_keeps_the_export(tmp_path, make, "loop")).config()["hidden"] == 8


def test_loop_stage_resumed_mid_epoch_runs_every_round_of_its_epochs(tmp_path):
    # with max_epochs (as train/loop.yaml runs), a run resumed mid-epoch stopped that epoch early: a round lost
    from lightning.pytorch.callbacks import ModelCheckpoint

    from metanet.loop.lightning import LoopDataModule, LoopModule

    def parts():
        return (LoopModule(writer=None, hidden=8, message=4, candidates=2, lr=1e-2),
                LoopDataModule(bases=("digits",), tasks_per_round=1, rounds_per_epoch=3, shots_min=5, shots_max=5,
                               query=10, heldout_tasks=1, seed=0))

    def trainer(d, **kw):
        return L.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
                         num_sanity_val_steps=0, limit_val_batches=0, deterministic=True,
                         reload_dataloaders_every_n_epochs=1,
                         callbacks=[ModelCheckpoint(dirpath=str(d), save_last=True, every_n_train_steps=1)], **kw)

    L.seed_everything(0)
    full, data = parts()
    trainer(tmp_path / "a", max_epochs=2).fit(full, data)
    L.seed_everything(0)
    first, data = parts()
    trainer(tmp_path / "b", max_steps=4).fit(first, data)  # stopped after the first round of epoch 2
    resumed, data = parts()
    t = trainer(tmp_path / "b", max_epochs=2)
    t.fit(resumed, data, ckpt_path=str(tmp_path / "b" / "last.ckpt"))
    assert t.global_step == 6  # was 5
    for (k, a), b in zip(full.writer.state_dict().items(), resumed.writer.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), k


def test_loop_data_needs_two_query_examples_per_class():
    from metanet.loop.lightning import LoopDataModule

    with pytest.raises(ConfigError, match="query .* must be a whole number >= 2, got 1"):
        LoopDataModule(bases=("digits",), query=1).prepare_data()


class _Killed(Exception):
    pass


class _Kill(L.Callback):
    """Stops the process as a SIGKILL would: no hook after it runs (ModelCheckpoint saves nothing on exceptions)."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_start(self, trainer, *args) -> None:
        if trainer.global_step == self.step:
            raise _Killed


def _config_callbacks(dirpath: Path) -> list:
    """train/loop.yaml's callbacks, writing into ``dirpath``."""
    out = []
    for c in yaml.safe_load(CONFIG.read_text())["trainer"]["callbacks"]:
        mod, name = c["class_path"].rsplit(".", 1)
        out.append(getattr(importlib.import_module(mod), name)(**{**c.get("init_args", {}), "dirpath": str(dirpath)}))
    return out


def _fit(dirpath: Path, kill_at: int | None = None, ckpt_path: str | None = None) -> LoopModule:
    L.seed_everything(0)
    m = LoopModule(writer=None, hidden=8, message=4, candidates=3, lr=1e-2)
    d = LoopDataModule(bases=("digits",), tasks_per_round=1, rounds_per_epoch=3, shots_min=5, shots_max=10, query=20,
                       heldout_tasks=1, seed=0)
    cbs = _config_callbacks(dirpath) + ([_Kill(kill_at)] if kill_at is not None else [])
    t = L.Trainer(max_epochs=2, accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
                  num_sanity_val_steps=0, reload_dataloaders_every_n_epochs=1, deterministic=True, callbacks=cbs)
    if kill_at is None:
        t.fit(m, d, ckpt_path=ckpt_path)
    else:
        with pytest.raises(_Killed):
            t.fit(m, d)
    return m


def test_a_run_killed_in_its_first_epoch_resumes_from_last_ckpt(tmp_path):
    # with the held-out metric as the (only) checkpoint's monitor, Lightning deferred every save, last.ckpt included,
    # until the first validation: a run killed in its first epoch (20 rounds with train/loop.yaml) had no checkpoint
    _fit(tmp_path / "killed", kill_at=2)
    last = tmp_path / "killed" / "last.ckpt"
    assert last.is_file()
    assert torch.load(last, weights_only=True)["global_step"] == 2
    resumed = _fit(tmp_path / "killed", ckpt_path=str(last))
    full = _fit(tmp_path / "full")
    for (k, a), b in zip(full.writer.state_dict().items(), resumed.writer.state_dict().values()):
        assert torch.equal(a, b), k


def test_the_best_checkpoint_holds_the_writer_its_validation_scored(tmp_path):
    # the monitored checkpoint was saved every round, with the score of the last validation: its "best" writer was
    # one of a later round than the one validated (epoch=1-step=4.ckpt, scored at step 3)
    _fit(tmp_path)
    best = [p for p in tmp_path.glob("*.ckpt") if p.name != "last.ckpt"]
    assert len(best) == 1
    ck = torch.load(best[0], weights_only=True)
    assert ck["global_step"] % 3 == 0  # a validation ran after every 3 rounds (one epoch)
    assert best[0].name.startswith("best-")


def test_a_nan_candidate_does_not_make_the_writer_nan(monkeypatch, caplog):
    # one candidate with NaN weights got the lowest reward, but its NaN reached the gradient through the writer's joint
    # write: Adam made the whole writer NaN after one round, and the next validation raised (the stage died)
    from metanet.writer.model import Writer

    real = Writer.write

    def write(self, *a, **k):
        p = real(self, *a, **k)
        if next(iter(p.values())).shape[0] < 2:
            return p
        return {n: torch.cat([v[:1] * float("nan"), v[1:]]) for n, v in p.items()}  # candidate 0 broken, in the graph

    monkeypatch.setattr(Writer, "write", write)
    L.seed_everything(0)
    m = LoopModule(writer=None, hidden=8, message=4, candidates=3, lr=1e-2)
    d = LoopDataModule(bases=("digits",), tasks_per_round=1, rounds_per_epoch=2, shots_min=5, shots_max=10, query=20,
                       heldout_tasks=1, seed=0)
    t = L.Trainer(max_epochs=1, accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
                  enable_checkpointing=False, num_sanity_val_steps=0, gradient_clip_val=1.0)
    with caplog.at_level("WARNING", logger="metanet.loop"):
        t.fit(m, d)
    assert t.global_step == 2
    assert all(torch.isfinite(p).all() for p in m.writer.parameters())
    assert t.callback_metrics["candidates/broken"] == 1
    assert 0 < float(t.callback_metrics["heldout/accuracy_best_of_k"]) <= 1
    assert "non-finite gradient, update skipped" in caplog.text
