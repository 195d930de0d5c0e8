"""The loop as a Lightning stage: it trains, logs, and a run stopped after a round resumes from its checkpoint."""

from __future__ import annotations

import re

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from metanet.loop.lightning import LoopDataModule, LoopModule
from lightning_helpers import check_smoke_run_keeps_the_export


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
