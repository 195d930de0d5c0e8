"""metanet.train.stage.ResumableCheckpoint (train/reader.yaml, train/writer.yaml) at a ``max_steps`` stop mid-epoch
that a validation follows. The reader's (validated twice an epoch) saves last.ckpt as that validation ends, as
Lightning does, so the resumed fit keeps that validation's best checkpoint: saved before the validation, last.ckpt
held the best checkpoint's callback without it, and the resumed fit took a later, no better validation's checkpoint
as its best and left the first one on disk. The writer's (saved at epochs' ends) still saves as the step ends."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback

from metanet.reader.lightning import ReaderModule
from metanet.writer.lightning import EpisodeDataModule, WriterModule
from tests.train.test_train_last_checkpoint import _ckpt_step, _config_checkpoints, _episodes, _flat, _Seen


def _fit(tmp: Path, data, ckpt: str | None = None, **trainer) -> tuple[L.Trainer, _Seen]:
    L.seed_everything(0)
    m = _flat(ReaderModule, "val/loss")(tasks=["digits", "mnist"], hidden=8, layers=1, probes=4)
    seen = _Seen(lambda batch: batch.zoo_id.tolist())
    # 3 batches an epoch, validated after each (val_check_interval 0.5 of 3): every validation logs the same val/loss
    t = L.Trainer(max_epochs=2, accelerator="cpu", logger=False, enable_progress_bar=False,
                  enable_model_summary=False, num_sanity_val_steps=0, limit_val_batches=1, val_check_interval=0.5,
                  deterministic=True, callbacks=[*_config_checkpoints("reader", tmp), seen], **trainer)
    t.fit(m, data, ckpt_path=ckpt)
    return t, seen


def test_reader_stopped_at_a_validated_step_resumes_with_that_validations_best(tmp_path, tiny_data):
    t, seen = _fit(tmp_path, tiny_data, max_steps=1)  # stops mid-epoch 0, after step 0 and its validation
    assert t.global_step == 1 and seen.validations == 1
    last = tmp_path / "last.ckpt"
    assert _ckpt_step(last) == 1
    ckpt = torch.load(last, weights_only=True)
    train = ckpt["loops"]["fit_loop"]["epoch_loop.batch_progress"]["total"]
    assert train["processed"] == train["completed"] == 1  # saved after the validation, not as the batch ended
    best = next(v for k, v in ckpt["callbacks"].items() if "val/loss" in k)
    assert Path(best["best_model_path"]).name == "epoch=0-step=1.ckpt" and best["best_model_score"] == 0.5

    resumed, seen = _fit(tmp_path, tiny_data, ckpt=str(last))
    assert sorted(seen.seen) == [1, 2, 3, 4, 5] and resumed.global_step == 6 and seen.validations == 5
    assert _ckpt_step(last) == 6
    # as the uninterrupted fit: only the first validation improved val/loss, its checkpoint is the best, and alone
    monitor = next(c for c in resumed.checkpoint_callbacks if c.monitor == "val/loss")
    assert Path(monitor.best_model_path).name == "epoch=0-step=1.ckpt"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch=0-step=1.ckpt", "last.ckpt"]


class _StopAt(Callback):
    """Sets ``trainer.should_stop`` as step ``step`` ends (before the checkpoint callbacks, which Lightning runs last)."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step == self.step:
            trainer.should_stop = True


def test_writer_stopped_mid_epoch_by_max_steps_and_should_stop_saves_last_ckpt(tmp_path):
    # the writer saves at epochs' ends (validated once an epoch): the validation a stop runs mid-epoch saves nothing
    # there, so last.ckpt must still be saved as the stopping step ends (waiting for that validation saved none)
    L.seed_everything(0)
    m = WriterModule(hidden=8, message=4)
    d = EpisodeDataModule(bases=("digits",), tasks_per_step=1, shots_min=5, shots_max=10, query=5, val_episodes=1,
                          steps_per_epoch=2, seed=0)
    seen = _Seen(_episodes)
    t = L.Trainer(max_epochs=2, max_steps=3, accelerator="cpu", logger=False, enable_progress_bar=False,
                  enable_model_summary=False, num_sanity_val_steps=0, limit_val_batches=1, deterministic=True,
                  callbacks=[*_config_checkpoints("writer", tmp_path), seen, _StopAt(3)])
    t.fit(m, d)
    assert t.global_step == 3 and seen.validations == 2  # epoch 0's, and the one the stop ran after step 2
    assert _ckpt_step(tmp_path / "last.ckpt") == 3
