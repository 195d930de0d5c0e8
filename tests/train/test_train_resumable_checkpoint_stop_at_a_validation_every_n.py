"""metanet.train.stage.ResumableCheckpoint without a monitor (last.ckpt), stopped by ``max_steps`` mid-epoch at a
step a validation follows, when the user sets ``every_n_train_steps`` or ``every_n_epochs``: it waits for that
validation's end to save the stopping step, where Lightning's own save skips a step not of its schedule, so no
checkpoint of the stopping step was written at all and ``--ckpt_path=last`` resumed from an earlier one (or
nothing). It is now saved there, after the validation, and a fit resumed from it goes on from that step."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from metanet.train.stage import ResumableCheckpoint


class _Tiny(L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)
        self.validations = 0

    def training_step(self, batch, batch_idx):
        return self.layer(batch[0]).pow(2).mean()

    def validation_step(self, batch, batch_idx):
        self.log("val/loss", self.layer(batch[0]).pow(2).mean())

    def on_validation_end(self) -> None:
        self.validations += 1

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def _fit(tmp, max_steps: int, ckpt: str | None = None, **checkpoint) -> tuple[L.Trainer, _Tiny]:
    L.seed_everything(0)
    data = DataLoader(TensorDataset(torch.randn(4, 2)), batch_size=1)  # 4 batches an epoch, validated after 2 and 4
    m = _Tiny()
    t = L.Trainer(max_steps=max_steps, val_check_interval=0.5, limit_val_batches=1, num_sanity_val_steps=0,
                  logger=False, enable_progress_bar=False, enable_model_summary=False, deterministic=True,
                  callbacks=[ResumableCheckpoint(dirpath=tmp, filename="last", **checkpoint)])
    t.fit(m, data, data, ckpt_path=ckpt)
    return t, m


@pytest.mark.parametrize("checkpoint", [{}, {"every_n_train_steps": 3}, {"every_n_epochs": 2}])
def test_a_stop_a_validation_follows_is_saved_as_it_ends_whatever_the_schedule(tmp_path, checkpoint):
    t, m = _fit(tmp_path, 2, **checkpoint)  # stops after step 2 of epoch 0 and its validation
    assert t.global_step == 2 and m.validations == 1
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]
    ckpt = torch.load(tmp_path / "last.ckpt", weights_only=True)
    assert ckpt["global_step"] == 2
    train = ckpt["loops"]["fit_loop"]["epoch_loop.batch_progress"]["total"]
    assert train["processed"] == train["completed"] == 2  # saved after the validation, not as the batch ended
    torch.testing.assert_close(ckpt["state_dict"]["layer.weight"], m.layer.weight.detach())

    resumed, m = _fit(tmp_path, 4, ckpt=str(tmp_path / "last.ckpt"), **checkpoint)
    assert resumed.global_step == 4 and m.validations == 1  # steps 3 and 4, then the epoch's second validation
