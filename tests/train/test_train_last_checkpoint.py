"""``--ckpt_path=last`` of train/writer.yaml and train/reader.yaml resumes from the latest state: last.ckpt is
rewritten when every validation ends, not only when the monitored metric improves (Lightning's ``save_last`` of a
monitoring ModelCheckpoint); and ``--trainer.overfit_batches`` trains on the same batches every epoch (the writer's
fresh episodes, the loop's step-indexed task stream)."""

from __future__ import annotations

import importlib
from pathlib import Path

import lightning as L
import pytest
import torch
import yaml
from lightning.pytorch.callbacks import Callback, ModelCheckpoint

from metanet.loop.lightning import LoopDataModule, LoopModule
from metanet.reader.lightning import ReaderModule
from metanet.writer.lightning import EpisodeDataModule, WriterModule

ROOT = Path(__file__).resolve().parents[2]


def _config_checkpoints(name: str, dirpath: Path) -> list[ModelCheckpoint]:
    """The ModelCheckpoint callbacks of train/<name>.yaml, writing into ``dirpath``."""
    out = []
    for c in yaml.safe_load((ROOT / "train" / f"{name}.yaml").read_text())["trainer"]["callbacks"]:
        mod, cls = c["class_path"].rsplit(".", 1)
        if issubclass(getattr(importlib.import_module(mod), cls), ModelCheckpoint):
            out.append(getattr(importlib.import_module(mod), cls)(**{**c.get("init_args", {}),
                                                                     "dirpath": str(dirpath)}))
    return out


def _flat(cls: type, metric: str) -> type:
    """``cls`` whose validations all log the same ``metric``: only the first improves it."""

    class Flat(cls):
        def log(self, name: str, value, *args, **kwargs) -> None:
            super().log(name, 0.5 if name == metric else value, *args, **kwargs)

    return Flat


class _Seen(Callback):
    """A fingerprint of every training step's batch, and the validations run."""

    def __init__(self, fingerprint) -> None:
        self.fingerprint, self.seen, self.validations = fingerprint, {}, 0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.seen[trainer.global_step] = self.fingerprint(batch)

    def on_validation_end(self, trainer, pl_module) -> None:
        self.validations += 1


def _episodes(batch) -> tuple:
    return tuple(float(ep.support[0].sum()) for ep in batch)


def _tasks(batch) -> tuple:
    return tuple((t.name, float(t.support[0].sum())) for t in batch)


def _ckpt_step(path: Path) -> int:
    return torch.load(path, weights_only=True)["global_step"]


# --- last.ckpt of the writer and reader configs ----------------------------------------------------------------------


def _writer_fit(tmp: Path, epochs: int, ckpt: str | None = None, **trainer):
    L.seed_everything(0)
    m = _flat(WriterModule, "val/query_acc")(hidden=8, message=4)
    d = EpisodeDataModule(bases=("digits",), tasks_per_step=1, shots_min=5, shots_max=10, query=5, val_episodes=1,
                          steps_per_epoch=2, seed=0)
    seen = _Seen(_episodes)
    t = L.Trainer(max_epochs=epochs, accelerator="cpu", logger=False, enable_progress_bar=False,
                  enable_model_summary=False, num_sanity_val_steps=0, deterministic=True,
                  callbacks=[*_config_checkpoints("writer", tmp), seen], **{"limit_val_batches": 1, **trainer})
    t.fit(m, d, ckpt_path=ckpt)
    return t, seen


def test_writer_last_ckpt_holds_the_latest_step_after_a_validation_that_did_not_improve(tmp_path):
    # train/writer.yaml's ModelCheckpoint(monitor=val/query_acc, save_last=True) rewrote last.ckpt only when a
    # validation improved the metric: here it stayed at step 2 (epoch 0), and --ckpt_path=last trained epochs 1-2 again
    t, seen = _writer_fit(tmp_path, 3)
    assert t.global_step == 6 and seen.validations == 3
    last = tmp_path / "last.ckpt"
    assert _ckpt_step(last) == 6
    # taken after the epoch's validation (its batch done; one taken as the training batch ended, before the
    # validation, has it processed, not completed, and a resume skipped that validation), after the best checkpoint's
    # callback had scored it; and the best checkpoint is still the first validation's
    ckpt = torch.load(last, weights_only=True)
    train = ckpt["loops"]["fit_loop"]["epoch_loop.batch_progress"]["total"]
    assert train["processed"] == train["completed"] == 6
    assert ckpt["loops"]["fit_loop"]["epoch_loop.val_loop.batch_progress"]["is_last_batch"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch=0-step=2.ckpt", "last.ckpt"]
    best = next(v for k, v in ckpt["callbacks"].items() if "val/query_acc" in k)
    assert Path(best["best_model_path"]).name == "epoch=0-step=2.ckpt"

    # resumed, it continues from step 6: one more epoch, its own validation only
    resumed, seen = _writer_fit(tmp_path, 4, ckpt=str(last))
    assert sorted(seen.seen) == [6, 7] and resumed.global_step == 8 and seen.validations == 1
    assert _ckpt_step(last) == 8
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch=0-step=2.ckpt", "last.ckpt"]


def test_writer_last_ckpt_of_a_fit_without_validation(tmp_path):
    # no validation (limit_val_batches=0): last.ckpt is still written, at each epoch's end
    L.seed_everything(0)
    m = WriterModule(hidden=8, message=4)
    d = EpisodeDataModule(bases=("digits",), tasks_per_step=1, shots_min=5, shots_max=10, query=5, val_episodes=1,
                          steps_per_epoch=2, seed=0)
    t = L.Trainer(max_epochs=2, accelerator="cpu", logger=False, enable_progress_bar=False,
                  enable_model_summary=False, num_sanity_val_steps=0, limit_val_batches=0,
                  callbacks=_config_checkpoints("writer", tmp_path))
    from lightning.pytorch.callbacks import model_checkpoint

    model_checkpoint.warning_cache.clear()  # Lightning warns once a process: an earlier test's fit may have
    with pytest.warns(UserWarning, match="val/query_acc"):  # the best checkpoint's metric is never logged
        t.fit(m, d)
    assert _ckpt_step(tmp_path / "last.ckpt") == 4


@pytest.mark.parametrize("val", [1, 0])
def test_writer_fit_stopped_mid_epoch_resumes_the_rest_of_that_epoch(tmp_path, val):
    # max_steps=3 stops epoch 1 (steps 2, 3) after step 2: Lightning still ends that epoch and records it finished,
    # and the last.ckpt saved there was resumed as a fit past epoch 1: it ended at once, no step, no validation
    _writer_fit(tmp_path / "a", 2, limit_val_batches=val)
    t, _ = _writer_fit(tmp_path / "b", 2, max_steps=3, limit_val_batches=val)
    assert t.global_step == 3 and _ckpt_step(tmp_path / "b" / "last.ckpt") == 3
    resumed, seen = _writer_fit(tmp_path / "b", 2, ckpt=str(tmp_path / "b" / "last.ckpt"), limit_val_batches=val)
    assert sorted(seen.seen) == [3] and resumed.global_step == 4 and seen.validations == val
    assert _ckpt_step(tmp_path / "b" / "last.ckpt") == 4
    a, b = (torch.load(tmp_path / d / "last.ckpt", weights_only=True)["state_dict"] for d in "ab")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)  # as the uninterrupted fit


def _reader_fit(tmp: Path, data, epochs: int, ckpt: str | None = None):
    L.seed_everything(0)
    m = _flat(ReaderModule, "val/loss")(tasks=["digits", "mnist"], hidden=8, layers=1, probes=4)
    seen = _Seen(lambda batch: batch.zoo_id.tolist())
    # validation within the epoch, as train/reader.yaml's (twice an epoch)
    t = L.Trainer(max_epochs=epochs, accelerator="cpu", logger=False, enable_progress_bar=False,
                  enable_model_summary=False, num_sanity_val_steps=0, limit_val_batches=1, val_check_interval=0.5,
                  callbacks=[*_config_checkpoints("reader", tmp), seen])
    t.fit(m, data, ckpt_path=ckpt)
    return t, seen


def test_reader_last_ckpt_holds_the_latest_step_after_a_validation_that_did_not_improve(tmp_path, tiny_data):
    t, seen = _reader_fit(tmp_path, tiny_data, 2)
    assert t.global_step == 6 and seen.validations == 6  # val_check_interval 0.5 of 3 batches: after each
    last = tmp_path / "last.ckpt"
    assert _ckpt_step(last) == 6  # was 1: the first validation's, the only one that improved val/loss
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch=0-step=1.ckpt", "last.ckpt"]
    resumed, seen = _reader_fit(tmp_path, tiny_data, 3, ckpt=str(last))
    assert sorted(seen.seen) == [6, 7, 8] and resumed.global_step == 9
    assert _ckpt_step(last) == 9


# --- overfit_batches ---------------------------------------------------------------------------------------------------


def _writer_batches(overfit: bool) -> dict[int, tuple]:
    L.seed_everything(0)
    m = WriterModule(hidden=8, message=4)
    d = EpisodeDataModule(bases=("digits",), tasks_per_step=1, shots_min=5, shots_max=10, query=5, val_episodes=1,
                          steps_per_epoch=3, seed=0, fresh_episodes=True)
    seen = _Seen(_episodes)
    limit = {"overfit_batches": 1} if overfit else {"limit_train_batches": 1}
    L.Trainer(max_epochs=2, accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
              enable_checkpointing=False, num_sanity_val_steps=0, limit_val_batches=1, callbacks=[seen],
              **limit).fit(m, d)
    return seen.seen


def test_writer_overfit_batches_trains_on_the_same_episodes_every_epoch():
    # with fresh_episodes (the data module's default) each epoch re-seeded the stream: overfit_batches=1 trained
    # on a new episode every epoch
    seen = _writer_batches(overfit=True)
    assert sorted(seen) == [0, 1] and seen[0] == seen[1]
    plain = _writer_batches(overfit=False)  # one batch an epoch without overfit_batches: fresh ones, as before
    assert plain[0] == seen[0] and plain[1] != plain[0]


def _loop_fit(tmp: Path, max_steps: int = -1, ckpt: str | None = None, **trainer) -> dict[int, tuple]:
    L.seed_everything(0)
    m = LoopModule(writer=None, hidden=8, message=4, candidates=2, lr=1e-2)
    d = LoopDataModule(bases=("digits",), tasks_per_round=1, rounds_per_epoch=3, shots_min=5, shots_max=10, query=4,
                       heldout_tasks=1, seed=0)
    seen = _Seen(_tasks)
    ck = ModelCheckpoint(dirpath=str(tmp), save_last=True, save_top_k=0, every_n_train_steps=1)
    L.Trainer(max_epochs=2, max_steps=max_steps, accelerator="cpu", logger=False, enable_progress_bar=False,
              enable_model_summary=False, num_sanity_val_steps=0, limit_val_batches=0,
              reload_dataloaders_every_n_epochs=1, callbacks=[ck, seen], **trainer).fit(m, d, ckpt_path=ckpt)
    return seen.seen


def test_loop_overfit_batches_trains_on_the_same_rounds_every_epoch(tmp_path):
    # the task stream is offset by the global step: each epoch's rounds were new ones
    seen = _loop_fit(tmp_path / "a", overfit_batches=2)
    assert sorted(seen) == [0, 1, 2, 3] and seen[0] != seen[1]
    assert (seen[2], seen[3]) == (seen[0], seen[1])
    # resumed mid-epoch (after the second epoch's first round), it trains on that epoch's second round
    _loop_fit(tmp_path / "b", max_steps=3, overfit_batches=2)
    resumed = _loop_fit(tmp_path / "b", ckpt=str(tmp_path / "b" / "last.ckpt"), overfit_batches=2)
    assert resumed == {3: seen[3]}
    # without overfit_batches, as before: the rounds of the stream in turn
    plain = _loop_fit(tmp_path / "c", limit_train_batches=2)
    assert plain[0] == seen[0] and plain[1] == seen[1] and len(set(plain.values())) == 4
