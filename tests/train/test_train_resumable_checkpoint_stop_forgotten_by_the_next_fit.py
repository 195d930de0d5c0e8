"""metanet.train.stage.ResumableCheckpoint defers a stopping step's save to the validation after it. A fit that
raised in that validation left the deferred step set on the callback, and the next fit with the same callback
object (in-process: a notebook, a retry) saved that step as its own validation there ended, off the user's
``every_n_train_steps`` schedule. Each fit starts with nothing deferred."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from metanet.train.stage import ResumableCheckpoint


class _Tiny(L.LightningModule):
    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)
        self.fail = fail

    def training_step(self, batch, batch_idx):
        return self.layer(batch[0]).pow(2).mean()

    def validation_step(self, batch, batch_idx):
        if self.fail:
            raise RuntimeError("validation failed")
        self.log("val/loss", self.layer(batch[0]).pow(2).mean())

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def _fit(cb: ResumableCheckpoint, max_steps: int, fail: bool = False) -> L.Trainer:
    data = DataLoader(TensorDataset(torch.randn(8, 2)), batch_size=1)  # 8 batches an epoch, validated every 2
    t = L.Trainer(max_steps=max_steps, val_check_interval=2, limit_val_batches=1, num_sanity_val_steps=0,
                  logger=False, enable_progress_bar=False, enable_model_summary=False, callbacks=[cb])
    t.fit(_Tiny(fail), data, data)
    return t


def test_a_stop_deferred_by_a_fit_that_raised_is_not_saved_by_the_next_fit(tmp_path):
    cb = ResumableCheckpoint(dirpath=tmp_path, filename="{step}", every_n_train_steps=3, save_top_k=-1)
    with pytest.raises(RuntimeError, match="validation failed"):
        _fit(cb, 2, fail=True)  # stops at step 2 (a validation follows) and raises in that validation
    assert list(tmp_path.iterdir()) == []
    t = _fit(cb, 4)  # validates at steps 2 and 4, saves at 3 (its schedule) and at the stop, 4
    assert t.global_step == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step=3.ckpt", "step=4.ckpt"]
