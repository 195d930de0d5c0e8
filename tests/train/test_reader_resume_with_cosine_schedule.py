"""A reader fit on train/reader.yaml's cosine schedule, resumed from a checkpoint taken mid-epoch, trains on the
batches of an uninterrupted fit. The schedule's ``trainer.estimated_stepping_batches`` makes the train iterator while
the optimisers are configured, before Lightning restores its loops: that iterator was made as for the fit's first
batch (a fresh shuffle, nothing skipped), and the resumed epoch trained on other networks than the uninterrupted one."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from metanet.reader.lightning import ReaderModule

from lightning_helpers import Killed, SeenSteps


def _fit(tmp, data, every: int, kill: int | None = None, ckpt: str | None = None):
    L.seed_everything(0)
    m = ReaderModule(tasks=["digits", "mnist"], hidden=8, layers=1, probes=4, schedule="cosine")
    ck = ModelCheckpoint(dirpath=str(tmp), save_last=True, every_n_train_steps=every, save_top_k=-1)
    seen = SeenSteps(kill)
    # max_epochs, as train/reader.yaml: with max_steps alone Lightning plans the steps without the loader
    t = L.Trainer(max_epochs=2, accelerator="cpu", logger=False, enable_progress_bar=False,
                  enable_model_summary=False, limit_val_batches=0, num_sanity_val_steps=0, callbacks=[ck, seen])
    if kill is None:
        t.fit(m, data, ckpt_path=ckpt)
    else:
        with pytest.raises(Killed):
            t.fit(m, data, ckpt_path=ckpt)
    return m, seen.seen, t


# (2, 3): saved after step 2, mid-epoch (3 batches an epoch); (3, 4): saved after step 3, at the epoch's end
@pytest.mark.parametrize("every, kill", [(2, 3), (3, 4)])
def test_a_resumed_cosine_fit_trains_on_the_batches_of_an_uninterrupted_one(tmp_path, tiny_data, every, kill):
    full, seen_full, _ = _fit(tmp_path / "a", tiny_data, every)
    _fit(tmp_path / "b", tiny_data, every, kill=kill)
    saved = torch.load(tmp_path / "b" / "last.ckpt", weights_only=True)["global_step"]
    resumed, seen, t = _fit(tmp_path / "b", tiny_data, every, ckpt=str(tmp_path / "b" / "last.ckpt"))
    assert t.global_step == 6
    assert seen == {s: v for s, v in seen_full.items() if s >= saved}
    a, b = full.reader.state_dict(), resumed.reader.state_dict()
    for k in a:
        assert torch.equal(a[k], b[k]), k
