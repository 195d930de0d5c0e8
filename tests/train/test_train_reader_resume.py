"""A reader fit resumed from a checkpoint trains, step for step, on the batches of an uninterrupted fit: also from a
checkpoint taken mid-epoch, and from one a ``max_steps`` fit without validation saved at an epoch's end."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint

from metanet.reader.lightning import ReaderModule


class _Seen(Callback):
    def __init__(self) -> None:
        self.seen: dict[int, list[int]] = {}

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.seen[trainer.global_step] = batch.zoo_id.tolist()


def _fit(tmp, data, steps: int, every: int | None, ckpt: str | None = None):
    L.seed_everything(0)
    m = ReaderModule(tasks=["digits", "mnist"], hidden=8, layers=1, probes=4)
    ck = ModelCheckpoint(dirpath=str(tmp), save_last=True, every_n_train_steps=every, save_top_k=-1)
    seen = _Seen()
    t = L.Trainer(max_steps=steps, accelerator="cpu", logger=False, enable_progress_bar=False,
                  enable_model_summary=False, limit_val_batches=0, num_sanity_val_steps=0, callbacks=[ck, seen])
    t.fit(m, data, ckpt_path=ckpt)
    return m, seen.seen, t


@pytest.mark.parametrize("every, kill", [(2, 2), (None, 3)])
def test_a_resumed_fit_trains_on_the_batches_of_an_uninterrupted_one(tmp_path, tiny_data, every, kill):
    # (2, 2): Lightning restarts the epoch's iterator: it was shuffled anew from the checkpoint's RNG state and the
    # epoch's first batches trained on again. (None, 3): saved at epoch end; Lightning's restored batch count ends
    # the resumed epoch after one batch and opens another iterator for the rest (shuffled anew too)
    full, seen_full, _ = _fit(tmp_path / "a", tiny_data, 6, every)
    _fit(tmp_path / "b", tiny_data, kill, every)
    resumed, seen, t = _fit(tmp_path / "b", tiny_data, 6, every, ckpt=str(tmp_path / "b" / "last.ckpt"))
    assert t.global_step == 6
    assert seen == {s: v for s, v in seen_full.items() if s >= kill}
    a, b = full.reader.state_dict(), resumed.reader.state_dict()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_a_checkpoint_of_an_earlier_version_still_resumes(tmp_path, tiny_data):
    # checkpoints written before the epoch's RNG state was saved hold only torch_rng_state and global_step
    _fit(tmp_path, tiny_data, 3, None)
    ckpt = torch.load(tmp_path / "last.ckpt", weights_only=True)
    state = ckpt["ReaderDataModule"]
    assert {"torch_rng_state", "global_step"} <= set(state)
    ckpt["ReaderDataModule"] = {k: state[k] for k in ("torch_rng_state", "global_step")}
    torch.save(ckpt, tmp_path / "old.ckpt")
    _, _, t = _fit(tmp_path / "c", tiny_data, 4, None, ckpt=str(tmp_path / "old.ckpt"))
    assert t.global_step == 4
