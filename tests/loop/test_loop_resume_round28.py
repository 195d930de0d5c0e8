"""Round 28: the loop stage of train/loop.yaml, stopped abruptly mid-run, resumes from its last.ckpt (issue #8 point
6); the checkpoints it keeps are the ones train/loop.yaml configures."""

from __future__ import annotations

import importlib
from pathlib import Path

import lightning as L
import pytest
import torch
import yaml

from metanet.loop.lightning import LoopDataModule, LoopModule

CONFIG = Path(__file__).resolve().parents[2] / "train" / "loop.yaml"


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
    assert torch.load(last, weights_only=False)["global_step"] == 2
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
    ck = torch.load(best[0], weights_only=False)
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
